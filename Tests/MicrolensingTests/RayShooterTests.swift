import Foundation
import XCTest
@testable import Microlensing

final class RayShooterTests: XCTestCase {
    private func map(_ k: Double, _ g: Double, _ s: Double, size: Double, pixels: Int, rays: Double, seed: UInt64,
                     lightLoss: Double = 0.01, order: Int = 16) throws -> MagnificationMap {
        var acc = DeflectionAccuracy()
        acc.order = order
        return try makeMagnificationMap(model: MacroModel(kappa: k, gamma: g, smoothFraction: s),
                                        settings: MapSettings(sizeRE: size, pixels: pixels, rayDensity: .perSourcePixel(rays),
                                                              seed: seed, lightLoss: lightLoss, accuracy: acc))
    }

    /// κ = γ = 0: no lensing; with k² rays per pixel aligned to the pixel grid every pixel
    /// receives exactly k² rays, so the map is exactly 1 everywhere.
    func testUnlensedMapIsExactlyOne() throws {
        for (rays, pixels, size) in [(16.0, 25, 5.0), (9.0, 16, 3.3), (1.0, 10, 1.0)] {
            let m = try map(0, 0, 0, size: size, pixels: pixels, rays: rays, seed: 1)
            XCTAssertEqual(m.starCount, 0)
            XCTAssertEqual(m.raysPerPixelUnlensed, rays, accuracy: 1e-9)
            XCTAssertTrue(m.pixels.allSatisfy { $0 == 1 }, "rays \(rays): \(m.pixels.min()!)…\(m.pixels.max()!)")
            XCTAssertEqual(m.mean, 1)
        }
    }

    /// Smooth matter and shear only (s = 1): a linear map, uniform magnification μ_th up to the
    /// ray-grid discretisation; the mean is exact up to the edge rows of rays.
    func testSmoothOnlyMapIsUniformAtTheoreticalMagnification() throws {
        for (k, g) in [(0.3, 0.2), (0.6, 0.5), (1.5, 0.2), (0.0, 0.35)] {
            let m = try map(k, g, 1, size: 4, pixels: 20, rays: 64, seed: 1)
            let mu = m.theoreticalMagnification
            XCTAssertEqual(m.mean / mu, 1, accuracy: 0.01, "κ=\(k) γ=\(g)")
            for v in m.pixels { XCTAssertEqual(Double(v) / mu, 1, accuracy: 0.3, "κ=\(k) γ=\(g)") }
        }
    }

    /// One star of unit mass, no smooth matter or shear: the map is Paczyński's
    /// μ(u) = (u² + 2)/(u √(u² + 4)) averaged over each pixel.
    func testSingleStarMapMatchesPointLensMagnification() throws {
        let result = pointLensErrors(try singleStarShooter(raysPerPixel: 100).makeMap(), starX: 0.01, starY: 0.02)
        for e in result.errors {
            XCTAssertEqual(e.error, 0, accuracy: 0.12, "pixel (\(e.column), \(e.row)) u = \(e.u)")
        }
        XCTAssertLessThan(result.meanAbs, 0.03)
    }

    /// The map mean equals μ_th = 1/|(1−κ)² − γ²| within its error. The error of one map's mean
    /// is dominated by the star field (finite-field sample variance: stars near the edges of the
    /// shooting region scatter rays in or out, amplified by 1/|λ|; several per cent for small
    /// maps), so it is measured as the scatter over seeds; the light loss of the shooting margin
    /// biases the mean low by ≈ √(κ*ε)/(2h), which is allowed for.
    private func checkMeanAcrossSeeds(_ k: Double, _ g: Double, _ s: Double) throws {
        let size = 10.0, loss = 0.01
        var means: [Double] = []
        let clock = ContinuousClock(), start = clock.now
        // Order 8 keeps deflection errors below 1e−3 of a pixel here; larger cells (1 star per
        // cell) keep the debug build quick. Neither affects the mean.
        let acc = DeflectionAccuracy(order: 8, starsPerCell: 1)
        for seed in 1...8 as ClosedRange<UInt64> {
            let m = try makeMagnificationMap(model: MacroModel(kappa: k, gamma: g, smoothFraction: s),
                                             settings: MapSettings(sizeRE: size, pixels: 20, rayDensity: .perSourcePixel(16),
                                                                   seed: seed, lightLoss: loss, accuracy: acc))
            means.append(m.mean / m.theoreticalMagnification)
        }
        let n = Double(means.count)
        let avg = means.reduce(0, +) / n
        let sd = (means.map { ($0 - avg) * ($0 - avg) }.reduce(0, +) / (n - 1)).squareRoot()
        let bias = ((1 - s) * k * loss).squareRoot() / size
        XCTAssertEqual(avg, 1, accuracy: 4 * sd / n.squareRoot() + bias, "κ=\(k) γ=\(g) s=\(s): \(means)")
        XCTAssertLessThan(sd, 0.4)
        print("mean/μ_th over 8 seeds for κ=\(k) γ=\(g) s=\(s): \(avg) ± \(sd / n.squareRoot()) "
              + "(single-map scatter \(sd); \(clock.now - start))")
    }

    func testMeanMagnificationMatchesTheoryForMinimum() throws { try checkMeanAcrossSeeds(0.3, 0.2, 0.5) }

    /// Negative parity: 1 − κ − γ = −0.1 < 0 < 1 − κ + γ.
    func testMeanMagnificationMatchesTheoryForSaddlePoint() throws { try checkMeanAcrossSeeds(0.6, 0.5, 0.5) }

    /// κ > 1: both eigenvalues negative (a maximum).
    func testMeanMagnificationMatchesTheoryForMaximum() throws { try checkMeanAcrossSeeds(1.5, 0.2, 0.5) }

    /// With smooth matter, every positive-parity image has μ ≥ 1/(1−κ_s)², and for a minimum
    /// macro image every source position has one, so no pixel is below it. For a saddle point
    /// the bound does not hold for the map (there need be no positive-parity image) and
    /// demagnified pixels appear.
    func testMinimumMagnificationBoundHoldsForMinimaButNotSaddles() throws {
        let minimum = try map(0.3, 0.2, 0.5, size: 10, pixels: 20, rays: 256, seed: 1, lightLoss: 0.003)
        let bound = minimum.model.minimumPositiveParityMagnification!
        // Ray discreteness: 256 rays per unlensed pixel count to ~1%.
        XCTAssertGreaterThanOrEqual(Double(minimum.pixels.min()!), bound * 0.98)
        let saddle = try map(0.6, 0.5, 0.8, size: 10, pixels: 20, rays: 16, seed: 1, order: 8)
        let saddleBound = saddle.model.minimumPositiveParityMagnification!   // 1/0.52² = 3.7
        XCTAssertGreaterThan(saddle.mean, 1)
        XCTAssertLessThan(Double(saddle.pixels.min()!), saddleBound * 0.5)
    }

    func testBandsAddUpToTheWholeMap() throws {
        let model = try MacroModel(kappa: 0.4, gamma: 0.3, smoothFraction: 0.3)
        let sh = try RayShooter(model: model, settings: MapSettings(sizeRE: 5, pixels: 16, rayDensity: .perSourcePixel(9), seed: 4))
        XCTAssertGreaterThan(sh.cellRows, 2)
        let whole = sh.shoot()
        var a = [UInt32](repeating: 0, count: whole.count), b = a
        let cut = sh.cellRows / 2
        let boundA = sh.shoot(cellRows: 0..<cut, into: &a)
        let boundB = sh.shoot(cellRows: cut..<sh.cellRows, into: &b)
        RayShooter.addCounts(b, into: &a)
        XCTAssertEqual(a, whole)
        let full = sh.makeMap()
        XCTAssertEqual(sh.makeMap(counts: a, deflectionErrorBound: max(boundA, boundB)), full)
        XCTAssertLessThan(full.deflectionErrorBound!, 1e-3 * full.geometry.pixelSize)
    }

    /// Threads shoot bands of cell rows into their own counts: the map is the single-threaded one.
    func testThreadedMapEqualsSingleThreaded() throws {
        let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
        let settings = MapSettings(sizeRE: 5, pixels: 16, rayDensity: .perSourcePixel(9), seed: 8)
        let one = try makeMagnificationMap(model: model, settings: settings)
        for threads in [2, 3, 1000] {
            XCTAssertEqual(try makeMagnificationMap(model: model, settings: settings, threads: threads), one, "threads \(threads)")
        }
    }

    func testMapMetadataAndReproducibility() throws {
        let a = try map(0.45, 0.45, 0.5, size: 5, pixels: 10, rays: 4, seed: 77)
        let b = try map(0.45, 0.45, 0.5, size: 5, pixels: 10, rays: 4, seed: 77)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.kappa, 0.45)
        XCTAssertEqual(a.gamma, 0.45)
        XCTAssertEqual(a.smoothFraction, 0.5)
        XCTAssertEqual(a.sizeRE, 5)
        XCTAssertEqual(a.width, 10)
        XCTAssertEqual(a.pixelCount, 100)
        XCTAssertEqual(a.seed, 77)
        XCTAssertGreaterThan(a.starCount, 0)
        XCTAssertGreaterThan(a.raysShot, 0)
        XCTAssertEqual(a.theoreticalMagnification, 10, accuracy: 1e-12)
        XCTAssertNil(a.sourceProfile)
    }
}
