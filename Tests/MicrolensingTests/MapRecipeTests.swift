import XCTest
import Microlensing

/// The names of mass functions and source profiles, and the one check of a map's settings.
final class MapRecipeTests: XCTestCase {
    func recipe() -> MapRecipe {
        MapRecipe(sizeRE: 10, pixels: 20, raysPerPixel: 4, massFunction: .unit, massRange: [0.08, 1], lightLoss: 0.01,
                  compensateMeanField: true, method: .rayShooting, sourceSizes: [0, 0.5], sourceProfile: .gaussian,
                  logMuRange: [-2, 2], bins: 80)
    }

    /// Raw values are the spellings stored in files; each name builds its profile or mass function.
    func testNamesKeepTheirSpellingsAndBuildTheirValues() throws {
        XCTAssertEqual(MassFunction.Family.allCases.map(\.rawValue), ["unit", "salpeter", "kroupa"])
        XCTAssertEqual(SourceProfile.Shape.allCases.map(\.rawValue), ["gaussian", "disk"])
        XCTAssertEqual(MapMethod.allCases.map(\.rawValue), ["irs", "ipm"])
        XCTAssertEqual(try MassFunction.Family.unit.massFunction(range: []), .unit)
        XCTAssertEqual(try MassFunction.Family.kroupa.massFunction(range: [0.01, 1.5]), .kroupa(minimum: 0.01, maximum: 1.5))
        XCTAssertThrowsError(try MassFunction.Family.salpeter.massFunction(range: [1]))
        XCTAssertThrowsError(try MassFunction.Family.salpeter.massFunction(range: [2, 1]))
        XCTAssertNil(SourceProfile.Shape.disk.profile(size: 0))
        XCTAssertEqual(SourceProfile.Shape.disk.profile(size: 0.5), .disk(radius: 0.5))
        XCTAssertEqual(SourceProfile.Shape.gaussian.profile(size: 0.5), .gaussian(sigma: 0.5))
    }

    /// Each bad value is reported under its configuration key.
    func testValidateNamesTheKey() throws {
        XCTAssertNoThrow(try recipe().validate())
        func key(_ change: (inout MapRecipe) -> Void) -> String? {
            var r = recipe()
            change(&r)
            do { try r.validate() } catch let error as MapRecipe.InvalidSetting { return error.key } catch { return "\(error)" }
            return nil
        }
        XCTAssertEqual(key { $0.sizeRE = 0 }, "size_re")
        XCTAssertEqual(key { $0.pixels = 1 }, "pixels")
        XCTAssertEqual(key { $0.raysPerPixel = -1 }, "rays_per_pixel")
        XCTAssertEqual(key { $0.sourceSizes = [] }, "source_sizes")
        XCTAssertEqual(key { $0.logMuRange = [1, 1] }, "log_mu_range")
        XCTAssertEqual(key { $0.bins = 0 }, "bins")
        XCTAssertEqual(key { $0.massFunction = .salpeter; $0.massRange = [1, 0.5] }, "mass_function")
        XCTAssertEqual(key { $0.lightLoss = 1 }, "light_loss")
        let settings = try recipe().mapSettings(seed: 7)
        XCTAssertEqual(settings, MapSettings(sizeRE: 10, pixels: 20, rayDensity: .perSourcePixel(4), seed: 7, lightLoss: 0.01))
    }
}
