import Foundation
import TesseraTestSupport
import XCTest
@testable import TesseraSupport

final class AtomicFileTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(prefix: "atomic").path
    }

    private func contents(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    func testReplacesTheFileOnlyWhenTheWriteSucceeds() throws {
        let path = directory + "/result.txt"
        try writeReplacing(path) { partial in
            XCTAssertEqual(partial, path + ".partial")
            XCTAssertNil(contents(path), "nothing under the final name while writing")
            try "first".write(toFile: partial, atomically: false, encoding: .utf8)
        }
        XCTAssertEqual(contents(path), "first")

        struct Boom: Error {}
        XCTAssertThrowsError(try writeReplacing(path) { partial in
            try "half".write(toFile: partial, atomically: false, encoding: .utf8)
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(contents(path), "first", "a failed write leaves the earlier result")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"), "and no partial file")

        try writeReplacing(path) { try "second".write(toFile: $0, atomically: false, encoding: .utf8) }
        XCTAssertEqual(contents(path), "second")
    }

    func testFailureToRenameNamesThePath() {
        let path = directory + "/missing-dir/result.txt"
        XCTAssertThrowsError(try writeReplacing(path) { _ in }) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }
}
