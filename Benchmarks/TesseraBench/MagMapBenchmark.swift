import Foundation
import Microlensing

/// The magnification-map benchmark of the lensing-tables issue: (κ, γ, s) = (0.45, 0.45, 0.5),
/// 25 Einstein radii, on one core. Reports wall time, rays per second, stars and the error of
/// the mean magnification against 1/|(1−κ)² − γ²|.
///
/// Reference, measured in the same run: the same star field with every ray deflected by direct
/// summation over all stars (timed on a sample of rays and scaled to the map's ray count) — the
/// cost of a plain ray shooter on this CPU.
enum MagMapBenchmark {
    static func run(pixels: Int, seeds: Int) {
        do {
            let result = try MagnificationMapBenchmark.run(pixels: pixels)
            print("magmap (0.45, 0.45, 0.5), 25 R_E, \(pixels)×\(pixels), 1 core: \(result)")
            print(String(format: "magmap: %.2f s total, %.3g rays/s, %d stars, mean error %+.3f%% (goal: <= 10 s and |error| <= 0.5%% at 1000²)",
                         result.seconds, result.raysPerSecond, result.stars, 100 * result.relativeError))

            // Reference: direct summation on a sample of rays from the same shooting region.
            let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
            let settings = MapSettings(sizeRE: 25, pixels: pixels)
            let shooter = try RayShooter(model: model, settings: settings)
            let sample = 20_000
            var xs: [Double] = [], ys: [Double] = []
            for i in 0..<sample {
                xs.append(shooter.originX + (Double(i % 200) + 0.5) * Double(shooter.raysX) / 200 * shooter.raySpacing)
                ys.append(shooter.originY + (Double(i / 200) + 0.5) * Double(shooter.raysY) / 100 * shooter.raySpacing)
            }
            let t0 = Date()
            let deflected = DirectDeflection.deflections(x: xs, y: ys, stars: shooter.stars)
            let directRate = Double(sample) / Date().timeIntervalSince(t0)
            let directSeconds = Double(result.rays) / directRate
            print(String(format: "reference: direct summation over %d stars: %.3g rays/s -> %.0f s for this map (checksum %.3g)",
                         shooter.stars.count, directRate, directSeconds, deflected.x.reduce(0, +)))
            print(String(format: "ratio: hierarchical shooting is %.0f× faster than direct summation (rays/s %.3g vs %.3g)",
                         result.raysPerSecond / directRate, result.raysPerSecond, directRate))

            // The numerical error of the mean, apart from the star field: the same stars by direct
            // summation on an independent 0.1 θ_E ray grid.
            let t1 = Date()
            let direct = DirectDeflection.meanMagnification(of: shooter, spacing: 0.1)
            print(String(format: "mean by direct summation over the same stars (%d rays at 0.1 R_E, %.0f s): %+.3f%% from theory; "
                         + "the map's mean differs from it by %+.3f%% (its numerical error; ray-grid noise ~%.2f%%)",
                         direct.rays, Date().timeIntervalSince(t1), 100 * (direct.mean / result.theory - 1),
                         100 * (result.mean / direct.mean - 1), 100 / Double(direct.landed).squareRoot()))

            // Inverse polygon mapping of the same map with one grid square per unlensed pixel.
            let ipm = try MagnificationMapBenchmark.run(pixels: pixels, raysPerPixel: 1, method: .polygonMapping)
            print(String(format: "polygon mapping, 1 square per pixel: %.2f s total (%.2f s mapping %ld squares), mean error %+.3f%%; "
                         + "ray shooting with %.0f rays per pixel: %.2f s",
                         ipm.seconds, ipm.shootSeconds, ipm.rays, 100 * ipm.relativeError, MapSettings.defaultRaysPerPixel,
                         result.seconds))
            try pixelNoise()

            // The mean of one map scatters with its star field; over several seeds it should match
            // theory. Same seeds with the pre-image mass fixed and the mean shear cancelled (the
            // default) and without (a plain uniform field).
            if seeds > 1 {
                for compensate in [true, false] {
                    var errors: [Double] = []
                    for seed in 1...seeds {
                        errors.append(try MagnificationMapBenchmark.run(pixels: pixels, seed: UInt64(seed),
                                                                        compensateMeanField: compensate).relativeError)
                    }
                    let mean = errors.reduce(0, +) / Double(seeds)
                    let rms = (errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(seeds - 1)).squareRoot()
                    print(String(format: "seeds 1...%d, %@: mean errors %@; ensemble %+.3f%% ± %.3f%% (single-map scatter %.2f%% rms)",
                                 seeds, compensate ? "mean field compensated (default)" : "uncompensated",
                                 errors.map { String(format: "%+.2f%%", 100 * $0) }.joined(separator: " "),
                                 100 * mean, 100 * rms / Double(seeds).squareRoot(), 100 * rms))
                }
            }
        } catch {
            print("magmap benchmark failed: \(error)")
            exit(1)
        }
    }

    /// Pixel errors of ray shooting and polygon mapping at 250² against ray shooting with 1024
    /// rays per pixel (same stars), with their times: what each method needs for a given noise.
    static func pixelNoise() throws {
        let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
        func make(_ rays: Double, _ method: MapMethod) throws -> (MagnificationMap, Double) {
            let t0 = Date()
            let m = try makeMagnificationMap(model: model, settings: MapSettings(sizeRE: 25, pixels: 250,
                                                                                rayDensity: .perSourcePixel(rays), method: method))
            return (m, Date().timeIntervalSince(t0))
        }
        let (reference, refSeconds) = try make(1024, .rayShooting)
        print(String(format: "pixel noise at 250² against ray shooting with 1024 rays per pixel (%.1f s):", refSeconds))
        for (rays, method) in [(16.0, MapMethod.rayShooting), (256, .rayShooting), (1, .polygonMapping), (4, .polygonMapping)] {
            let (m, seconds) = try make(rays, method)
            var sum = 0.0
            for (a, b) in zip(m.pixels, reference.pixels) {
                let rel = Double(a) / Double(b) - 1
                sum += rel * rel
            }
            print(String(format: "  %@ %4.0f per pixel: %.2f s, pixel rms error %.2f%%, mean %+.3f%% from the reference's",
                         method == .rayShooting ? "ray shooting   " : "polygon mapping", rays, seconds,
                         100 * (sum / Double(m.pixels.count)).squareRoot(), 100 * (m.mean / reference.mean - 1)))
        }
    }
}
