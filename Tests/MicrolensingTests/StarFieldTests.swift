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

final class ConditionedStarFieldTests: XCTestCase {
    /// Unit masses: the rectangle gets ⌊M_A⌋ or ⌈M_A⌉ stars (M_A = κ*·A/π), ⌈M_A⌉ with
    /// probability frac(M_A); the rest of the disk keeps the expected density.
    func testRectangleGetsItsExpectedStarCount() throws {
        let rect = StarField.Rectangle(halfWidthX: 40, halfWidthY: 6)
        let kappaStar = 0.225
        let expected = kappaStar * rect.area / Double.pi   // 68.75
        var ceilings = 0
        for seed in 1...200 as ClosedRange<UInt64> {
            let f = try StarField(kappaStar: kappaStar, radius: 60, seed: seed, conditionedOn: rect)
            let inside = (0..<f.count).filter { abs(f.x[$0]) < 40 && abs(f.y[$0]) < 6 }.count
            XCTAssertTrue(inside == Int(expected) || inside == Int(expected) + 1, "seed \(seed): \(inside)")
            if inside == Int(expected) + 1 { ceilings += 1 }
            XCTAssertTrue((0..<f.count).allSatisfy { f.x[$0] * f.x[$0] + f.y[$0] * f.y[$0] <= f.radius * f.radius })
            XCTAssertEqual(f.count, try StarField(kappaStar: kappaStar, radius: 60, seed: seed).count)
        }
        let p = expected - expected.rounded(.down)
        XCTAssertEqual(Double(ceilings) / 200, p, accuracy: 4 * (p * (1 - p) / 200).squareRoot())
    }

    /// Outside the rectangle positions stay uniform: equal counts in the two halves of the rest of
    /// the disk and the expected share beyond half the radius.
    func testOutsideStaysUniform() throws {
        let rect = StarField.Rectangle(halfWidthX: 20, halfWidthY: 5)
        let f = try StarField(kappaStar: 0.5, radius: 120, seed: 11, conditionedOn: rect)
        let outside = (0..<f.count).filter { !(abs(f.x[$0]) < 20 && abs(f.y[$0]) < 5) }
        let right = outside.filter { f.x[$0] > 0 }.count
        let far = outside.filter { f.x[$0] * f.x[$0] + f.y[$0] * f.y[$0] > f.radius * f.radius / 4 }.count
        let n = Double(outside.count)
        let farShare = 0.75 * Double.pi * f.radius * f.radius / (Double.pi * f.radius * f.radius - rect.area)
        XCTAssertEqual(Double(right) / n, 0.5, accuracy: 5 * (0.25 / n).squareRoot())
        XCTAssertEqual(Double(far) / n, farShare, accuracy: 5 * (farShare * (1 - farShare) / n).squareRoot())
    }

    /// With a mass spectrum the mass inside is κ*·A/π to within about one star.
    func testMassInsideWithMassSpectrum() throws {
        let rect = StarField.Rectangle(halfWidthX: 30, halfWidthY: 10)
        let mf = MassFunction.salpeter(minimum: 0.1, maximum: 2)
        for seed in 1...20 as ClosedRange<UInt64> {
            let f = try StarField(kappaStar: 0.3, radius: 80, massFunction: mf, seed: seed, conditionedOn: rect)
            let mass = (0..<f.count).filter { abs(f.x[$0]) < 30 && abs(f.y[$0]) < 10 }.map { f.mass[$0] }.reduce(0, +)
            XCTAssertEqual(mass, 0.3 * rect.area / Double.pi, accuracy: 2, "seed \(seed)")
        }
    }

    func testRectangleMustLieInsideTheField() {
        XCTAssertThrowsError(try StarField(kappaStar: 0.3, radius: 10, seed: 1,
                                           conditionedOn: .init(halfWidthX: 9, halfWidthY: 9))) { error in
            XCTAssertTrue("\(error)".contains("conditioningRectangle"), "\(error)")
        }
    }
}
