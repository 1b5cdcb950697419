/// Timing of one magnification map, for benchmark executables and release-mode tests.
public enum MagnificationMapBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        /// Wall-clock seconds for everything (star field, tree, shooting, map).
        public let seconds: Double
        /// Seconds spent building the star field, tree and cell grid.
        public let setupSeconds: Double
        /// Seconds in the ray (or polygon) loop.
        public let shootSeconds: Double
        public let rays: Int
        public let stars: Int
        /// Measured mean magnification of the map.
        public let mean: Double
        /// μ_th = 1/|(1−κ)² − γ²|.
        public let theory: Double
        /// Largest a-posteriori far-field deflection error bound over the cells (Einstein radii).
        public let deflectionErrorBound: Double
        /// Pixel side (Einstein radii), for comparison with the bound.
        public let pixelSize: Double
        /// (mean − μ_th)/μ_th.
        public var relativeError: Double { mean / theory - 1 }
        /// Rays per second in the ray loop.
        public var raysPerSecond: Double { Double(rays) / shootSeconds }

        public var description: String {
            let pct = (relativeError * 1e4).rounded() / 1e2
            return "rays \(rays), stars \(stars), setup \(setupSeconds) s, shooting \(shootSeconds) s "
                + "(\(Int(raysPerSecond)) rays/s), total \(seconds) s; mean \(mean) vs theory \(theory) (\(pct)%); "
                + "deflection error bound \(deflectionErrorBound) RE (pixel \(pixelSize) RE)"
        }
    }

    /// Makes one map on the calling thread and times it. Defaults: the reference case
    /// (κ, γ, s) = (0.45, 0.45, 0.5), 25 Einstein radii, 1000×1000 pixels.
    public static func run(kappa: Double = 0.45, gamma: Double = 0.45, s: Double = 0.5, sizeRE: Double = 25,
                           pixels: Int = 1000, seed: UInt64 = 1,
                           raysPerPixel: Double = MapSettings.defaultRaysPerPixel,
                           accuracy: DeflectionAccuracy = DeflectionAccuracy(),
                           compensateMeanField: Bool = true, method: MapMethod = .rayShooting) throws -> Result {
        let clock = ContinuousClock()
        let t0 = clock.now
        let model = try MacroModel(kappa: kappa, gamma: gamma, smoothFraction: s)
        let settings = MapSettings(sizeRE: sizeRE, pixels: pixels, rayDensity: .perSourcePixel(raysPerPixel),
                                   seed: seed, accuracy: accuracy, compensateMeanField: compensateMeanField, method: method)
        let shooter = try RayShooter(model: model, settings: settings)
        let t1 = clock.now
        let map: MagnificationMap, t2: ContinuousClock.Instant
        if method == .polygonMapping {
            var sums = [Double](repeating: 0, count: pixels * pixels)
            let bound = shooter.mapPolygons(cellRows: 0..<shooter.cellRows, into: &sums)
            t2 = clock.now
            map = shooter.makePolygonMap(sums: sums, deflectionErrorBound: bound)
        } else {
            var counts = [UInt32](repeating: 0, count: pixels * pixels)
            let bound = shooter.shoot(cellRows: 0..<shooter.cellRows, into: &counts)
            t2 = clock.now
            map = shooter.makeMap(counts: counts, deflectionErrorBound: bound)
        }
        let t3 = clock.now
        func secs(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        return Result(seconds: secs(t3 - t0), setupSeconds: secs(t1 - t0), shootSeconds: secs(t2 - t1),
                      rays: shooter.raysShot, stars: shooter.stars.count, mean: map.mean,
                      theory: model.theoreticalMagnification, deflectionErrorBound: map.deflectionErrorBound ?? 0,
                      pixelSize: map.geometry.pixelSize)
    }
}
