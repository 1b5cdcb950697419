import Foundation
import LensInference
import LensingRuns
import TesseraHDF5
import TesseraRun
import XCTest

/// The selection file (`selection.h5`) and the mock catalog file (`lenses.h5`): round trips, refusals.
final class SelectionFileAndCatalogTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sel-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func record() throws -> SelectionTableFile.Record {
        let lower = [1.0, 1.2, 12.6, 0.08], upper = [1.5, 1.8, 13.4, 0.25]
        let nodes = SelectionDesign.scale(SelectionDesign.halton(count: 14, dimensions: 4), lower: lower, upper: upper)
        let counts = nodes.map { Int(300 * (0.1 + 0.2 * ($0[2] - 12.6) + 0.05 * $0[0] * $0[0])) }
        let s = try InterpolatedSelection(version: "sel-3", nodes: nodes, selected: counts, draws: 300, lower: lower, upper: upper,
                                          toleranceFactor: 2.5)
        return SelectionTableFile.Record(selection: s, rounds: nodes.indices.map { Int32($0 / 10) },
                                         seconds: nodes.map { _ in 0.5 }, ranks: nodes.map { _ in 1 },
                                         magnificationTableVersion: "tab-7", magnificationTable: "data/tables/x/table.h5",
                                         simId: "x", gitCommit: "abc123", seed: 9, maxPoints: 20, stopReason: "budget",
                                         configurationJSON: "{\"draws\":300}")
    }

    func testSelectionFileRoundTripsBitForBitAndRefusesOtherVersions() throws {
        let r = try record()
        let path = directory + "/selection.h5"
        try SelectionTableFile.write(r, to: path)
        let back = try SelectionTableFile.read(path, magnificationTableVersion: "tab-7", selectionVersion: "sel-3")
        XCTAssertEqual(back, r)
        var eta = PopulationHyperparameters()
        for x in [[1.1, 1.3, 12.9, 0.1], [1.44, 1.75, 13.3, 0.2], r.selection.nodes[4]] {
            eta.inferred = x
            XCTAssertEqual(try back.selection.logA(eta).bitPattern, try r.selection.logA(eta).bitPattern)
        }
        // A file built over another magnification table, or of another selection version: refused, naming both.
        XCTAssertThrowsError(try SelectionTableFile.load(path, magnificationTableVersion: "tab-8")) { error in
            let text = "\(error)"
            for part in [path, "magnification_table_version", "tab-7", "tab-8"] { XCTAssertTrue(text.contains(part), text) }
        }
        XCTAssertThrowsError(try SelectionTableFile.load(path, magnificationTableVersion: "tab-7", selectionVersion: "sel-2")) { error in
            let text = "\(error)"
            for part in [path, "selection_version", "sel-3", "sel-2"] { XCTAssertTrue(text.contains(part), text) }
        }
        // Another layout version.
        let file = try HDF5File.open(path, mode: .readWrite)
        try file.setAttribute("format_version", .string("0"))
        try file.close()
        XCTAssertThrowsError(try SelectionTableFile.load(path, magnificationTableVersion: "tab-7")) { error in
            let text = "\(error)"
            for part in [path, "format_version", "'0'", "'1'"] { XCTAssertTrue(text.contains(part), text) }
        }
    }

    func testCatalogRoundTripsAndRefusesALensWithoutASolution() throws {
        let catalog = try Fixtures.catalog(count: 3, seed: 5)
        let path = directory + "/lenses.h5"
        try MockLensCatalogFile.write(catalog, to: path, magnificationTableVersion: "tab-7", gitCommit: "abc")
        let (back, version) = try MockLensCatalogFile.read(path)
        XCTAssertEqual(back, catalog)
        XCTAssertEqual(version, "tab-7")
        XCTAssertTrue(catalog.lenses.allSatisfy { $0.truth.images.allSatisfy { abs($0.parity) == 1 && $0.timeDelayDays.isFinite } })
        XCTAssertTrue(catalog.lenses.contains { $0.truth.images.contains { $0.parity == -1 } })

        // The true parameters re-solve to the catalogued images; a source moved far outside the caustics has no
        // multiple-image solution, and the error names the lens.
        let population = try Fixtures.population()
        let lens = catalog.lenses[1]
        let images = try population.solve(lens)
        XCTAssertEqual(images.count, lens.images.count)
        for (a, b) in zip(images, lens.truth.images) { XCTAssertEqual(a.x, b.x, accuracy: 1e-9); XCTAssertEqual(a.parity, b.parity) }
        var moved = lens
        moved.truth.parameters.sourceX = 4
        XCTAssertThrowsError(try population.solve(moved)) { error in
            XCTAssertTrue("\(error)".contains("'\(lens.id)'") && "\(error)".contains("no multiple-image solution"), "\(error)")
        }

        // A file whose lens lists a single image is refused, naming the file and the lens.
        var broken = catalog
        broken.lenses[2].images = [broken.lenses[2].images[0]]
        broken.lenses[2].truth.images = [broken.lenses[2].truth.images[0]]
        try MockLensCatalogFile.write(broken, to: path, magnificationTableVersion: "tab-7", gitCommit: "abc")
        XCTAssertThrowsError(try MockLensCatalogFile.read(path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains("'\(catalog.lenses[2].id)'") && text.contains("1 image"), text)
        }
    }
}

/// The shared population configuration: strict keys, checked values, and the science values it maps to.
final class LensPopulationConfigurationTests: XCTestCase {
    func load(_ yaml: String) throws -> LensPopulationConfiguration {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pop-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ConfigLoader.load(LensPopulationConfiguration.self, from: path)
    }

    func testKeysValuesAndRefusals() throws {
        let c = try load("alpha_sps: 1.3\nflux_limit: 20\nlens_redshift_range: [0.2, 0.5]\nlower: [1.1, 1.0, 12.5, 0.1]\n")
        XCTAssertEqual(c.hyperparameters.alphaSPS, 1.3)
        XCTAssertEqual(c.survey.fluxLimit, 20)
        XCTAssertEqual(c.survey.lensRedshiftRange, 0.2...0.5)
        XCTAssertEqual(c.lower, [1.1, 1.0, 12.5, 0.1])
        XCTAssertEqual(c.draws, LensPopulationConfiguration().draws)
        XCTAssertThrowsError(try load("tolerence: 2\n")) { XCTAssertTrue("\($0)".contains("did you mean 'tolerance'"), "\($0)") }
        XCTAssertThrowsError(try load("lower: [1.6, 1.2, 12.6, 0.08]\n")) { XCTAssertTrue("\($0)".contains("upper"), "\($0)") }
        XCTAssertThrowsError(try load("max_points: 10\n")) { XCTAssertTrue("\($0)".contains("max_points"), "\($0)") }
        XCTAssertThrowsError(try load("halo_scatter: -0.1\n")) { XCTAssertTrue("\($0)".contains("haloScatter"), "\($0)") }
    }
}
