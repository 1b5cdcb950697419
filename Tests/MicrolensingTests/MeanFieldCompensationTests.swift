import Foundation
import XCTest
@testable import Microlensing

final class MeanFieldCompensationTests: XCTestCase {
    /// ⟨∂ᵢαⱼ⟩ of one point mass over a rectangle by brute-force midpoint quadrature of
    /// ∂₁α₁ = m(Δy² − Δx²)/r⁴, ∂₁α₂ = ∂₂α₁ = −2mΔxΔy/r⁴ (valid for a star outside).
    private func quadrature(star sx: Double, _ sy: Double, mass m: Double, x: Double, y: Double, n: Int = 600)
        -> (gamma1: Double, gamma2: Double) {
        var g1 = 0.0, g2 = 0.0
        for i in 0..<n {
            for j in 0..<n {
                let px = -x + (Double(i) + 0.5) * 2 * x / Double(n), py = -y + (Double(j) + 0.5) * 2 * y / Double(n)
                let dx = px - sx, dy = py - sy
                let r2 = dx * dx + dy * dy
                g1 += m * (dy * dy - dx * dx) / (r2 * r2)
                g2 += -2 * m * dx * dy / (r2 * r2)
            }
        }
        let cells = Double(n * n)
        return (g1 / cells, g2 / cells)
    }

    /// A star inside puts its whole flux 2πm through the edges: realised κ = πm/A (κ = π × mass
    /// per area in Einstein-radius units), wherever it sits; a star outside adds no convergence.
    func testConvergenceCountsTheMassInside() throws {
        let (x, y) = (7.0, 2.5)
        let area = 4 * x * y
        for (sx, sy, m) in [(0.0, 0.0, 1.0), (6.3, -2.1, 0.7), (-1.2, 2.4, 2.0)] {
            let field = try StarField(x: [sx], y: [sy], mass: [m], radius: 20)
            let c = try MeanFieldCompensation(stars: field, halfWidthX: x, halfWidthY: y)
            XCTAssertEqual(c.realisedKappa, Double.pi * m / area, accuracy: 1e-12, "star at (\(sx), \(sy))")
        }
        for (sx, sy) in [(9.0, 0.0), (0.0, -3.0), (-8.0, 4.0), (15.0, 12.0)] {
            let field = try StarField(x: [sx], y: [sy], mass: [1], radius: 20)
            let c = try MeanFieldCompensation(stars: field, halfWidthX: x, halfWidthY: y)
            XCTAssertEqual(c.realisedKappa, 0, accuracy: 1e-12, "star at (\(sx), \(sy))")
        }
    }

    /// The realised shear of stars outside equals the rectangle average of their tidal field.
    func testShearOfOutsideStarsMatchesQuadrature() throws {
        let (x, y) = (5.0, 2.0)
        for (sx, sy, m) in [(8.0, 1.0, 1.0), (-2.0, 4.5, 0.5), (9.0, -7.0, 3.0)] {
            let field = try StarField(x: [sx], y: [sy], mass: [m], radius: 20)
            let c = try MeanFieldCompensation(stars: field, halfWidthX: x, halfWidthY: y)
            let q = quadrature(star: sx, sy, mass: m, x: x, y: y)
            XCTAssertEqual(c.gamma1, q.gamma1, accuracy: 1e-4 * max(abs(q.gamma1), 1e-3), "star at (\(sx), \(sy))")
            XCTAssertEqual(c.gamma2, q.gamma2, accuracy: 1e-4 * max(abs(q.gamma2), 1e-3), "star at (\(sx), \(sy))")
        }
    }

    /// For a random field the realised convergence over the pre-image scatters around κ* by the
    /// Poisson error of the star count, √(N_pre)·π⟨m⟩/A, and the shear around 0.
    func testRandomFieldScattersAroundTheTargetByPoissonNoise() throws {
        let kappaStar = 0.3, (x, y) = (30.0, 10.0)
        let expectedStars = kappaStar * 4 * x * y / Double.pi
        let poisson = expectedStars.squareRoot() * Double.pi / (4 * x * y)
        var deltas: [Double] = []
        for seed in 1...40 as ClosedRange<UInt64> {
            let field = try StarField(kappaStar: kappaStar, radius: 60, seed: seed)
            let c = try MeanFieldCompensation(stars: field, halfWidthX: x, halfWidthY: y)
            XCTAssertEqual(c.targetKappa, kappaStar, accuracy: 1e-12)
            deltas.append(c.deltaKappa)
        }
        let n = Double(deltas.count)
        let mean = deltas.reduce(0, +) / n
        let sd = (deltas.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 4 * poisson / n.squareRoot())
        // Binomial (fixed total N) rather than Poisson: a little below √N_pre.
        XCTAssertGreaterThan(sd, 0.5 * poisson)
        XCTAssertLessThan(sd, 1.5 * poisson)
    }

    /// The shooter applies y = (C + Γ)·x − α* with Γ = [[γ₁, γ₂], [γ₂, −γ₁]] (the realised
    /// κ is not a sheet: it is fixed by the star placement): with a negligible star far away the
    /// map is the linear map C + Γ, of magnification 1/|det(C + Γ)|.
    func testShooterCancelsTheShear() throws {
        let model = try MacroModel(kappa: 0.3, gamma: 0.1, smoothFraction: 1)
        let geo = try MapGeometry(sizeRE: 6, pixels: 24)
        let far = try StarField(x: [900], y: [900], mass: [1e-9], radius: 2000)
        let region = try ShootingRegion(halfWidthX: 8, halfWidthY: 8, starFieldRadius: 2000)
        let (dk, g1, g2) = (0.03, 0.02, -0.015)
        let c = MeanFieldCompensation(halfWidthX: 5, halfWidthY: 4, realisedKappa: dk, targetKappa: 0,
                                      gamma1: g1, gamma2: g2)
        let shooter = try RayShooter(model: model, geometry: geo, region: region, stars: far,
                                     rayDensity: .perSourcePixel(400), compensation: c)
        let map = shooter.makeMap()
        let (cx, cy) = model.smoothCoefficients
        let det = (cx + g1) * (cy - g1) - g2 * g2
        XCTAssertEqual(map.mean * abs(det), 1, accuracy: 0.005)
        XCTAssertEqual(map.compensation, c)
        // Uniform inside (away from the edge pixels, which the tilted pre-image cuts).
        for row in 2..<22 {
            for col in 2..<22 {
                XCTAssertEqual(Double(map[column: col, row: row]) * abs(det), 1, accuracy: 0.06, "pixel (\(col), \(row))")
            }
        }
        // Without the compensation it is the macro map, 1/(cx·cy).
        let plain = try RayShooter(model: model, geometry: geo, region: region, stars: far, rayDensity: .perSourcePixel(400))
        XCTAssertEqual(plain.makeMap().mean * cx * cy, 1, accuracy: 0.005)
        XCTAssertNil(plain.compensation)
    }

    /// What the compensation is for: near the critical line (μ_th = 10) the mean of a single
    /// map scatters over seeds by several per cent, mostly from the realised κ and γ of its
    /// pre-image; fixing them cuts that scatter, the seeds and ray grids otherwise the same.
    /// (Release-build figures for 25 θ_E maps: `tessera-bench scatter`.)
    func testCompensationReducesMapToMapScatterOfTheMean() throws {
        let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
        let acc = DeflectionAccuracy(order: 8, starsPerCell: 1)
        var plain: [Double] = [], compensated: [Double] = []
        var pixelsPlain: [Double] = [], pixelsCompensated: [Double] = []
        for seed in 1...40 as ClosedRange<UInt64> {
            for on in [false, true] {
                let settings = MapSettings(sizeRE: 25, pixels: 25, rayDensity: .perSourcePixel(4), seed: seed,
                                           accuracy: acc, compensateMeanField: on)
                let m = try makeMagnificationMap(model: model, settings: settings)
                XCTAssertEqual(m.compensation != nil, on)
                let relative = m.pixels.map { Double($0) / m.theoreticalMagnification }
                if on {
                    compensated.append(m.relativeMeanError); pixelsCompensated += relative
                } else {
                    plain.append(m.relativeMeanError); pixelsPlain += relative
                }
            }
        }
        func rms(_ v: [Double]) -> Double { (v.map { $0 * $0 }.reduce(0, +) / Double(v.count)).squareRoot() }
        func median(_ v: [Double]) -> Double { let a = v.map(abs).sorted(); return (a[19] + a[20]) / 2 }
        print("25 R_E maps at (0.45, 0.45, 0.5), 40 seeds: rms mean error \(rms(plain)) uncompensated, "
              + "\(rms(compensated)) compensated; median |error| \(median(plain)), \(median(compensated))")
        XCTAssertLessThan(rms(compensated), 0.8 * rms(plain), "plain \(plain), compensated \(compensated)")
        XCTAssertLessThan(median(compensated), 0.8 * median(plain), "plain \(plain), compensated \(compensated)")
        // Unbiased: the mean over seeds is μ_th within its error (plus the light-loss bias).
        let n = Double(compensated.count)
        let mean = compensated.reduce(0, +) / n
        let sd = (compensated.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 4 * sd / n.squareRoot() + (0.225 * 0.01).squareRoot() / 25)
        // And the pooled distribution of μ/μ_th is the uniform field's (largest CDF difference).
        pixelsPlain.sort(); pixelsCompensated.sort()
        var distance = 0.0
        for q in stride(from: 0.01, to: 1, by: 0.01) {
            let v = pixelsPlain[Int(q * Double(pixelsPlain.count))]
            let below = pixelsCompensated.firstIndex { $0 > v } ?? pixelsCompensated.count
            distance = max(distance, abs(Double(below) / Double(pixelsCompensated.count) - q))
        }
        print("CDF distance between the pooled distributions: \(distance)")
        XCTAssertLessThan(distance, 0.05)
    }
}
