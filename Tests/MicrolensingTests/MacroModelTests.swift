import XCTest
@testable import Microlensing

final class MacroModelTests: XCTestCase {
    func testDerivedQuantities() throws {
        let m = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
        XCTAssertEqual(m.kappaStar, 0.225, accuracy: 1e-15)
        XCTAssertEqual(m.kappaSmooth, 0.225, accuracy: 1e-15)
        XCTAssertEqual(m.theoreticalMagnification, 10, accuracy: 1e-12)
        XCTAssertEqual(m.smoothCoefficients.x, 1 - 0.225 - 0.45, accuracy: 1e-15)
        XCTAssertEqual(m.smoothCoefficients.y, 1 - 0.225 + 0.45, accuracy: 1e-15)
        XCTAssertEqual(m.imageType, .minimum)
        XCTAssertEqual(m.minimumPositiveParityMagnification!, 1 / (0.775 * 0.775), accuracy: 1e-12)
    }

    func testImageTypes() throws {
        XCTAssertEqual(try MacroModel(kappa: 0.3, gamma: 0.2).imageType, .minimum)
        let saddle = try MacroModel(kappa: 0.6, gamma: 0.5)
        XCTAssertEqual(saddle.imageType, .saddle)
        XCTAssertEqual(saddle.parity, -1)
        XCTAssertEqual(saddle.theoreticalMagnification, 1 / abs(0.16 - 0.25), accuracy: 1e-12)
        let maximum = try MacroModel(kappa: 1.5, gamma: 0.2)
        XCTAssertEqual(maximum.imageType, .maximum)
        XCTAssertEqual(maximum.theoreticalMagnification, 1 / (0.25 - 0.04), accuracy: 1e-12)
        // κ > 1 with large shear is a saddle.
        XCTAssertEqual(try MacroModel(kappa: 1.2, gamma: 0.5).imageType, .saddle)
    }

    func testInvalidParametersNameTheParameter() {
        func name(_ body: () throws -> Void) -> String? {
            do { try body() } catch let e as MicrolensingError {
                if case let .invalidParameter(n, _, _) = e { return n }
                return e.description
            } catch { return "\(error)" }
            return nil
        }
        XCTAssertEqual(name { _ = try MacroModel(kappa: -0.1, gamma: 0.2) }, "kappa")
        XCTAssertEqual(name { _ = try MacroModel(kappa: 0.1, gamma: -0.2) }, "gamma")
        XCTAssertEqual(name { _ = try MacroModel(kappa: 0.1, gamma: 0.2, smoothFraction: 1.5) }, "smoothFraction")
        XCTAssertEqual(name { _ = try MacroModel(kappa: .nan, gamma: 0.2) }, "kappa")
        XCTAssertThrowsError(try MacroModel(kappa: 0.5, gamma: 0.5)) { e in
            XCTAssertEqual(e as? MicrolensingError, .onCriticalCurve(kappa: 0.5, gamma: 0.5))
            XCTAssertTrue("\(e)".contains("critical"))
        }
        XCTAssertThrowsError(try MacroModel(kappa: 1.3, gamma: 0.3))   // 1 − κ + γ = 0
        XCTAssertThrowsError(try MapGeometry(sizeRE: 10, pixels: 0)) { e in
            XCTAssertTrue("\(e)".contains("pixels"))
        }
        XCTAssertThrowsError(try MapGeometry(sizeRE: -1, pixels: 10)) { e in
            XCTAssertTrue("\(e)".contains("sizeRE"))
        }
        let model = try! MacroModel(kappa: 0.3, gamma: 0.2)
        let geo = try! MapGeometry(sizeRE: 4, pixels: 8)
        XCTAssertThrowsError(try ShootingRegion(model: model, map: geo, lightLoss: 0)) { e in
            XCTAssertTrue("\(e)".contains("lightLoss"))
        }
        XCTAssertThrowsError(try RayShooter(model: model, settings: MapSettings(sizeRE: 4, pixels: 8,
                                                                                 rayDensity: .perSourcePixel(0)))) { e in
            XCTAssertTrue("\(e)".contains("raysPerPixel"))
        }
        var acc = DeflectionAccuracy()
        acc.openingAngle = 1.2
        XCTAssertThrowsError(try RayShooter(model: model, settings: MapSettings(sizeRE: 4, pixels: 8, accuracy: acc))) { e in
            XCTAssertTrue("\(e)".contains("openingAngle"))
        }
        XCTAssertThrowsError(try MassFunction.salpeter(minimum: 1, maximum: 0.5).validate()) { e in
            XCTAssertTrue("\(e)".contains("maximumMass"))
        }
    }
}
