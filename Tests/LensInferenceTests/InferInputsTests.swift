import Foundation
import LensInference
import LensingRuns
import XCTest

/// Inputs of `tessera infer`: a table or selection table with another version than the run recorded is refused
/// with an error naming the file and both versions; the selection version follows its recipe.
final class InferInputsTests: XCTestCase {
    /// The lens-inference tests' 408 KB table (made by scripts/make_inference_table_fixture.sh).
    static let table = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LensInferenceTests/Fixtures/microlensing-table.h5").path

    func testTableWithAnotherVersionIsRefused() throws {
        let found = try InferInputs.tableVersion(of: Self.table)
        XCTAssertFalse(found.isEmpty)
        XCTAssertNoThrow(try InferInputs.loadTable(Self.table, expectedVersion: found))
        XCTAssertNoThrow(try InferInputs.loadTable(Self.table, expectedVersion: ""))
        XCTAssertThrowsError(try InferInputs.loadTable(Self.table, expectedVersion: "v-recorded")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(Self.table + ":"), text)
            XCTAssertTrue(text.contains("'\(found)'") && text.contains("'v-recorded'"), text)
        }
    }

    func testSelectionVersionRefusalAndRecipe() throws {
        XCTAssertThrowsError(try InferInputs.checkVersion(file: "run/selection.json", what: "selection-table version",
                                                          found: "mc-a", expected: "mc-b")) { error in
            XCTAssertEqual("\(error)", "run/selection.json: selection-table version is 'mc-a', but this run recorded 'mc-b'; "
                + "use the table the run was made with (or start a new run)")
        }
        var c = InferConfiguration()
        c.table = Self.table
        c.tableVersion = "t1"
        let v1 = try InferRunner.selectionVersion(c)
        XCTAssertEqual(v1, try InferRunner.selectionVersion(c), "deterministic")
        XCTAssertTrue(v1.hasPrefix("mc-") && v1.count == 19, v1)
        c.selectionDraws += 1
        XCTAssertNotEqual(v1, try InferRunner.selectionVersion(c), "the draws are part of the recipe")
        c.selectionDraws -= 1
        c.tableVersion = "t2"
        XCTAssertNotEqual(v1, try InferRunner.selectionVersion(c), "the table version is part of the recipe")
    }

    func testConfigurationChecksTheInterimBox() throws {
        var c = InferConfiguration()
        c.table = Self.table
        XCTAssertNoThrow(try c.validate())
        c.interimAlpha = [0.8, 2.2]  // does not cover the α axis (0.8) minus 3h
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("interim_alpha"), "\($0)") }
    }
}
