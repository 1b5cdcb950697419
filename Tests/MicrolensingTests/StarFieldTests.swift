import XCTest
@testable import Microlensing

final class StarFieldTests: XCTestCase {
    func testStarCountAndRadiusForUnitMasses() throws {
        let f = try StarField(kappaStar: 0.3, radius: 20, seed: 5)
        XCTAssertEqual(f.count, 120)   // κ*·R²/⟨m⟩ = 0.3·400 exactly
        XCTAssertEqual(f.totalMass, 120)
        XCTAssertEqual(f.radius, (120 / 0.3).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(f.kappaStar, 0.3)
        let g = try StarField(kappaStar: 0.25, radius: 31.3, seed: 5)
        XCTAssertEqual(g.count, Int((0.25 * 31.3 * 31.3).rounded(.up)))
        XCTAssertGreaterThanOrEqual(g.radius, 31.3)
        XCTAssertEqual(g.totalMass / (g.radius * g.radius), 0.25, accuracy: 1e-12)
    }

    func testStarCountAndRealisedDensityWithMassSpectrum() throws {
        let mf = MassFunction.salpeter(minimum: 0.1, maximum: 10)
        let f = try StarField(kappaStar: 0.4, radius: 60, massFunction: mf, seed: 9)
        XCTAssertEqual(f.count, Int((0.4 * 3600 / mf.meanMass).rounded(.up)))
        // The radius is set so the realised mass gives exactly κ*.
        XCTAssertEqual(f.totalMass / (f.radius * f.radius), 0.4, accuracy: 1e-12)
        // ... and differs from the requested one by ~σ_m/(2⟨m⟩√N).
        let cv = (mf.meanSquaredMass / (mf.meanMass * mf.meanMass) - 1).squareRoot()
        XCTAssertEqual(f.radius / 60, 1, accuracy: 5 * cv / (2 * Double(f.count).squareRoot()))
    }

    func testPositionsFillTheDiskUniformly() throws {
        let f = try StarField(kappaStar: 0.5, radius: 100, seed: 3)
        let n = f.count
        var inner = 0, right = 0
        for i in 0..<n {
            let r = (f.x[i] * f.x[i] + f.y[i] * f.y[i]).squareRoot()
            XCTAssertLessThanOrEqual(r, f.radius)
            if r < f.radius / 2.0.squareRoot() { inner += 1 }
            if f.x[i] > 0 { right += 1 }
        }
        let se = (0.25 / Double(n)).squareRoot()
        XCTAssertEqual(Double(inner) / Double(n), 0.5, accuracy: 5 * se)
        XCTAssertEqual(Double(right) / Double(n), 0.5, accuracy: 5 * se)
    }

    func testReproducibleFromSeed() throws {
        let a = try StarField(kappaStar: 0.2, radius: 30, massFunction: .kroupa(minimum: 0.01, maximum: 1), seed: 42)
        let b = try StarField(kappaStar: 0.2, radius: 30, massFunction: .kroupa(minimum: 0.01, maximum: 1), seed: 42)
        let c = try StarField(kappaStar: 0.2, radius: 30, massFunction: .kroupa(minimum: 0.01, maximum: 1), seed: 43)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.x, c.x)
    }

    func testNoStarsWithoutStellarConvergence() throws {
        let f = try StarField(kappaStar: 0, radius: 10, seed: 1)
        XCTAssertEqual(f.count, 0)
        XCTAssertEqual(f.kappaStar, 0)
    }

    func testShootingRegionSizing() throws {
        let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
        let geo = try MapGeometry(sizeRE: 25, pixels: 100)
        let r = try ShootingRegion(model: model, map: geo, lightLoss: 0.01)
        let d = (0.225 / 0.01).squareRoot()
        XCTAssertEqual(r.sourceMargin, d, accuracy: 1e-12)
        XCTAssertEqual(r.halfWidthX, (12.5 + d) / 0.1, accuracy: 1e-9)
        XCTAssertEqual(r.halfWidthY, (12.5 + d) / 1.0, accuracy: 1e-9)
        XCTAssertEqual(r.starFieldRadius, r.halfDiagonal + 10, accuracy: 1e-9)
        // Saddle point: |λx| used; the same rectangle.
        let saddle = try MacroModel(kappa: 0.6, gamma: 0.5)
        let rs = try ShootingRegion(model: saddle, map: geo, lightLoss: 0.01)
        let ds = (0.6 / 0.01).squareRoot()
        XCTAssertEqual(rs.halfWidthX, (12.5 + ds) / 0.1, accuracy: 1e-9)
        XCTAssertEqual(rs.halfWidthY, (12.5 + ds) / 0.9, accuracy: 1e-9)
        // κ > 1 (maximum): both eigenvalues negative.
        let maximum = try MacroModel(kappa: 1.5, gamma: 0.2, smoothFraction: 1)
        let rm = try ShootingRegion(model: maximum, map: geo, lightLoss: 0.01)
        XCTAssertEqual(rm.sourceMargin, 0)
        XCTAssertEqual(rm.halfWidthX, 12.5 / 0.7, accuracy: 1e-9)
        XCTAssertEqual(rm.halfWidthY, 12.5 / 0.3, accuracy: 1e-9)
    }
}
