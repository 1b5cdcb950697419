import TesseraSupport
import XCTest
@testable import Microlensing

final class DeflectionTests: XCTestCase {
    func testSingleStarDirectDeflection() throws {
        let f = try StarField(x: [1], y: [2], mass: [0.5], radius: 10)
        let a = DirectDeflection.deflection(x: 3, y: 2, stars: f)   // 0.5·(2, 0)/4
        XCTAssertEqual(a.x, 0.25, accuracy: 1e-15)
        XCTAssertEqual(a.y, 0, accuracy: 1e-15)
        let b = DirectDeflection.deflection(x: 1, y: 0, stars: f)   // 0.5·(0, −2)/4
        XCTAssertEqual(b.y, -0.25, accuracy: 1e-15)
    }

    func testBatchMatchesSinglePoint() throws {
        let f = try StarField(kappaStar: 0.3, radius: 15, seed: 2)
        let xs = [0.3, -4.1, 7.7], ys = [1.2, 5.5, -2.2]
        let batch = DirectDeflection.deflections(x: xs, y: ys, stars: f)
        for i in 0..<3 {
            let s = DirectDeflection.deflection(x: xs[i], y: ys[i], stars: f)
            XCTAssertEqual(batch.x[i], s.x, accuracy: 1e-12)
            XCTAssertEqual(batch.y[i], s.y, accuracy: 1e-12)
        }
    }

    /// The mean deflection of stars uniform in a disk is κ*·x inside it (the convention that
    /// makes the total macro convergence κ_s + κ*): averaged over star fields.
    func testMeanStarDeflectionInsideDiskIsKappaStarTimesX() throws {
        let kStar = 0.3, point = (x: 12.0, y: -5.0)
        var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0
        let seeds = 40
        for seed in 0..<seeds {
            let f = try StarField(kappaStar: kStar, radius: 40, seed: UInt64(seed))
            let a = DirectDeflection.deflection(x: point.x, y: point.y, stars: f)
            sx += a.x; sy += a.y; sxx += a.x * a.x; syy += a.y * a.y
        }
        let n = Double(seeds)
        let mx = sx / n, my = sy / n
        let sex = ((sxx / n - mx * mx) / (n - 1)).squareRoot(), sey = ((syy / n - my * my) / (n - 1)).squareRoot()
        XCTAssertEqual(mx, kStar * point.x, accuracy: 4 * sex)
        XCTAssertEqual(my, kStar * point.y, accuracy: 4 * sey)
    }

    /// Barnes–Hut: |α_tree − α_direct| ≤ a-posteriori bound ≤ ε(θ, p)·A(z) at random points,
    /// for several θ and p, with a mass spectrum.
    func testTreeMatchesDirectSummationWithinStatedBound() throws {
        let f = try StarField(kappaStar: 0.4, radius: 40, massFunction: .salpeter(minimum: 0.1, maximum: 10), seed: 7)
        var rng = RandomSource(seed: 99)
        let points = (0..<60).map { _ -> (Double, Double) in
            let r = 45 * rng.uniform().squareRoot(), phi = 2 * Double.pi * rng.uniform()
            return (r * cos(phi), r * sin(phi))
        }
        let exact = points.map { DirectDeflection.deflection(x: $0.0, y: $0.1, stars: f) }
        let scale = points.map { DirectDeflection.absoluteSum(x: $0.0, y: $0.1, stars: f) }
        for order in [4, 8, 12, 20] {
            let tree = try MultipoleTree(stars: f, order: order, leafSize: 8)
            for theta in [0.3, 0.5, 0.7] {
                let eps = MultipoleTree.relativeErrorFactor(openingAngle: theta, order: order)
                var worst = 0.0, worstBound = 0.0
                for (i, pt) in points.enumerated() {
                    let t = tree.deflection(x: pt.0, y: pt.1, openingAngle: theta)
                    let err = ((t.x - exact[i].x) * (t.x - exact[i].x) + (t.y - exact[i].y) * (t.y - exact[i].y)).squareRoot()
                    XCTAssertLessThanOrEqual(err, t.errorBound + 1e-12 * scale[i], "p=\(order) θ=\(theta)")
                    XCTAssertLessThanOrEqual(t.errorBound, eps * scale[i] * (1 + 1e-12), "p=\(order) θ=\(theta)")
                    worst = max(worst, err / scale[i])
                    worstBound = max(worstBound, t.errorBound / scale[i])
                }
                // The bound is honest but not vacuous: the true error is below it, and the bound
                // itself decreases with p.
                XCTAssertLessThanOrEqual(worst, eps)
            }
        }
    }

    private func shooter(kappa: Double, gamma: Double, s: Double, accuracy: DeflectionAccuracy,
                         massFunction: MassFunction = .unit, seed: UInt64 = 3) throws -> RayShooter {
        let model = try MacroModel(kappa: kappa, gamma: gamma, smoothFraction: s)
        let settings = MapSettings(sizeRE: 6, pixels: 12, rayDensity: .perSourcePixel(4), seed: seed,
                                   massFunction: massFunction, lightLoss: 0.05, accuracy: accuracy)
        return try RayShooter(model: model, settings: settings)
    }

    /// Far Taylor expansion (from the tree) + near stars direct vs direct summation, at random
    /// points of the shooting grid: |Δα| ≤ the cell's a-posteriori bound ≤ ε(θ*, p)·A.
    func testHierarchicalDeflectionMatchesDirectWithinStatedBound() throws {
        let cases: [(Int, Double, Int)] = [(6, 0.5, 1), (10, 0.5, 1), (16, 0.5, 1), (10, 0.3, 2), (16, 0.6, 2)]
        for (order, theta, near) in cases {
            let acc = DeflectionAccuracy(order: order, openingAngle: theta, nearCells: near, starsPerCell: 0.5)
            let sh = try shooter(kappa: 0.5, gamma: 0.3, s: 0.2, accuracy: acc, massFunction: .kroupa(minimum: 0.01, maximum: 1.5))
            XCTAssertGreaterThan(sh.stars.count, 200)
            let eps = sh.relativeErrorFactor
            var rng = RandomSource(seed: UInt64(order * 10 + near))
            var worst = 0.0
            for _ in 0..<80 {
                let x = sh.originX + rng.uniform() * Double(sh.raysX) * sh.raySpacing
                let y = sh.originY + rng.uniform() * Double(sh.raysY) * sh.raySpacing
                let h = sh.deflection(x: x, y: y)
                let e = DirectDeflection.deflection(x: x, y: y, stars: sh.stars)
                let a = DirectDeflection.absoluteSum(x: x, y: y, stars: sh.stars)
                let err = ((h.x - e.x) * (h.x - e.x) + (h.y - e.y) * (h.y - e.y)).squareRoot()
                XCTAssertLessThanOrEqual(err, h.errorBound + 1e-11 * a, "p=\(order) θ=\(theta) n=\(near)")
                XCTAssertLessThanOrEqual(h.errorBound, eps * a, "p=\(order) θ=\(theta) n=\(near)")
                worst = max(worst, err / a)
            }
            XCTAssertLessThan(worst, eps)
        }
    }

    /// The ray loop's own kernel (Taylor shift to a row polynomial, two-step Horner, near stars)
    /// against direct summation, for whole rows of rays in several cells.
    func testRayLoopKernelMatchesDirectSummation() throws {
        let acc = DeflectionAccuracy(order: 14, openingAngle: 0.5, nearCells: 1, starsPerCell: 0.4)
        let sh = try shooter(kappa: 0.45, gamma: 0.45, s: 0.5, accuracy: acc, seed: 8)
        var rng = RandomSource(seed: 5)
        var checked = 0
        for _ in 0..<30 {
            let cx = Int(rng.uniform() * Double(sh.cellColumns)), cy = Int(rng.uniform() * Double(sh.cellRows))
            let row = Int(rng.uniform() * Double(min(sh.raysPerCellSide, sh.raysY - cy * sh.raysPerCellSide)))
            let r = sh.rowDeflections(cellX: cx, cellY: cy, row: row)
            let hBound = sh.deflection(x: r.x[0], y: r.y).errorBound
            for j in 0..<r.x.count {
                let e = DirectDeflection.deflection(x: r.x[j], y: r.y, stars: sh.stars)
                let a = DirectDeflection.absoluteSum(x: r.x[j], y: r.y, stars: sh.stars)
                // conj(α) = fr + i fi.
                let err = ((r.fr[j] - e.x) * (r.fr[j] - e.x) + (-r.fi[j] - e.y) * (-r.fi[j] - e.y)).squareRoot()
                XCTAssertLessThanOrEqual(err, hBound + 1e-10 * a)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }
}
