import Foundation
@testable import LensingRuns
import Microlensing
import TesseraMPI
import TesseraRun
import TesseraTestSupport
import XCTest

final class TableInterpolatorTests: XCTestCase {
    /// Written by the tabulation's table writer (one rank), read back by `load`.
    func testTableFileRoundTrip() throws {
        let comm = try MPIEnvironment.initialize()
        let dir = try makeTemporaryDirectory(prefix: "table").path
        var config = TableGridConfiguration()
        config.kappa = [0.2, 0.4]
        config.gamma = [0.1, 0.6]   // (0.4, 0.6) lies on the critical line: skipped
        config.s = [0.0]
        config.sourceSizes = [0, 1]
        config.bins = 4
        let checkpoints = CellCheckpoints(runDirectory: dir)
        for cell in config.cells where cell.computable && cell.index != 2 {  // cell 2 left missing
            let pdf = (0..<8).map { Double(cell.index * 10 + $0) }
            try checkpoints.save(CellResult(index: cell.index, pdf: pdf, meanMagnification: 2, theoryMagnification: 2.1,
                                            rays: 100, stars: 7, seed: cell.seed, seconds: 0.5, rank: 1))
        }
        XCTAssertEqual(try checkpoints.finishedIndices(), [0, 1])
        XCTAssertEqual(config.cells.map(\.computable), [true, true, true, false])
        let path = dir + "/table.h5"
        try MagnificationTableFile.write(config: config, checkpoints: checkpoints, to: path, communicator: comm)
        let table = try MagnificationTableInterpolator.load(path)
        XCTAssertEqual(table.kappaAxis, [0.2, 0.4])
        XCTAssertEqual(table.present, [true, true, false, false])
        XCTAssertEqual(table.pdf(at: try table.point(kappa: 0.2, gamma: 0.6, s: 0, sourceSize: 1)), [14, 15, 16, 17])
        XCTAssertThrowsError(try table.point(kappa: 0.3, gamma: 0.1, s: 0))  // needs missing cell 2
    }

    /// The grid's light loss reaches every cell's map settings and is checked, naming the key.
    func testGridLightLossReachesTheMapsAndIsValidated() throws {
        let config = try ConfigLoader.parse(TableGridConfiguration.self, yaml: "light_loss: 0.001\n", file: "grid.yaml")
        XCTAssertEqual(config.lightLoss, 0.001)
        XCTAssertEqual(TableGridConfiguration().lightLoss, MapSettings.defaultLightLoss)
        let settings = try config.mapRecipe.mapSettings(seed: 1)
        XCTAssertEqual(settings.lightLoss, 0.001)
        XCTAssertThrowsError(try ConfigLoader.parse(TableGridConfiguration.self, yaml: "light_loss: 1.5\n", file: "grid.yaml")) {
            XCTAssertTrue("\($0)".contains("light_loss"), "\($0)")
            XCTAssertTrue("\($0)".contains("grid.yaml"), "\($0)")
        }
    }

    /// The recovery study's wide table grid (Benchmarks/inference-table-wide.yaml) loads, keeps the fixture table's
    /// recipe, reaches beyond the fixture's edges where the mocks' posteriors went (κ > 1.4, γ > 1.5, s from 0 to
    /// 0.99), and, like the fixture, has every cell computable (κ nodes between multiples of 0.1, so none is within
    /// the 0.04 margin of |1 − κ| = γ: a skipped node would refuse every query whose cell touches it).
    func testWideRecoveryGridCoversTheFixturesGrid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let wide = try ConfigLoader.load(TableGridConfiguration.self, from: root.appendingPathComponent("Benchmarks/inference-table-wide.yaml").path)
        let fixture = try ConfigLoader.load(TableGridConfiguration.self,
                                            from: root.appendingPathComponent("Tests/LensInferenceTests/Fixtures/microlensing-table-grid.yaml").path)
        try wide.validate()
        for (w, f, name) in [(wide.kappa, fixture.kappa, "κ"), (wide.gamma, fixture.gamma, "γ"), (wide.s, fixture.s, "s")] {
            XCTAssertLessThanOrEqual(w.first!, f.first!, name)
            XCTAssertGreaterThan(w.last!, f.last!, name)
        }
        XCTAssertGreaterThan(wide.kappa.last!, 1.4)
        XCTAssertGreaterThan(wide.gamma.last!, 1.5)
        XCTAssertEqual(wide.s.first, 0)
        XCTAssertEqual(wide.mapRecipe, fixture.mapRecipe)
        XCTAssertEqual(wide.cells.count, 15 * 17 * 5)
        XCTAssertTrue(wide.cells.allSatisfy(\.computable), "a cell within the critical margin")
    }

    /// `method: ipm` selects polygon mapping for every cell; anything but irs or ipm is refused.
    func testGridMethod() throws {
        XCTAssertEqual(TableGridConfiguration().method, .rayShooting)
        let config = try ConfigLoader.parse(TableGridConfiguration.self, yaml: "method: ipm\n", file: "grid.yaml")
        XCTAssertEqual(config.method, .polygonMapping)
        XCTAssertEqual(try config.mapRecipe.mapSettings(seed: 1).method, .polygonMapping)
        XCTAssertThrowsError(try ConfigLoader.parse(TableGridConfiguration.self, yaml: "method: fmm\n", file: "grid.yaml")) {
            XCTAssertEqual($0 as? ConfigError, .invalidValue(file: "grid.yaml", field: "method", reason: "must be irs or ipm, got 'fmm'"))
        }
    }

    /// Source profile and mass function are names with fixed spellings, decoded once; params.json
    /// keeps writing them as the same strings.
    func testGridNamesDecodeOnceAndEncodeAsBefore() throws {
        let config = try ConfigLoader.parse(TableGridConfiguration.self,
                                            yaml: "source_profile: disk\nmass_function: kroupa\nmass_range: [0.01, 1.5]\n",
                                            file: "grid.yaml")
        XCTAssertEqual(config.sourceProfile, .disk)
        XCTAssertEqual(config.massFunction, .kroupa)
        XCTAssertEqual(try config.mapRecipe.mapSettings(seed: 1).massFunction, .kroupa(minimum: 0.01, maximum: 1.5))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any]
        XCTAssertEqual(json?["source_profile"] as? String, "disk")
        XCTAssertEqual(json?["mass_function"] as? String, "kroupa")
        XCTAssertEqual(json?["method"] as? String, "irs")
        XCTAssertThrowsError(try ConfigLoader.parse(TableGridConfiguration.self, yaml: "source_profile: box\n", file: "grid.yaml")) {
            XCTAssertEqual($0 as? ConfigError, .invalidValue(file: "grid.yaml", field: "source_profile",
                                                             reason: "must be gaussian or disk, got 'box'"))
        }
        XCTAssertThrowsError(try ConfigLoader.parse(TableGridConfiguration.self, yaml: "mass_function: salpeter\nmass_range: [2, 1]\n",
                                                    file: "grid.yaml")) {
            XCTAssertTrue("\($0)".contains("mass_function"), "\($0)")
        }
    }

    /// `tessera magmap`'s configuration checks its map keys with the same function as the grid.
    func testMagMapConfigurationSharesTheGridChecks() throws {
        XCTAssertThrowsError(try ConfigLoader.parse(MagMapConfiguration.self, yaml: "light_loss: 1.5\n", file: "params.json")) {
            XCTAssertEqual($0 as? ConfigError, .invalidValue(file: "params.json", field: "light_loss", reason: "must lie in (0, 1), got 1.5"))
        }
        XCTAssertThrowsError(try ConfigLoader.parse(TableGridConfiguration.self, yaml: "light_loss: 1.5\n", file: "params.json")) {
            XCTAssertEqual($0 as? ConfigError, .invalidValue(file: "params.json", field: "light_loss", reason: "must lie in (0, 1), got 1.5"))
        }
        let c = try ConfigLoader.parse(MagMapConfiguration.self, yaml: "method: ipm\nformat: fits\n", file: "params.json")
        XCTAssertEqual(c.mapRecipe.method, .polygonMapping)
        XCTAssertEqual(c.format.fileName, "map.fits")
        XCTAssertThrowsError(try ConfigLoader.parse(MagMapConfiguration.self, yaml: "threads: 0\n", file: "params.json"))
    }
}
