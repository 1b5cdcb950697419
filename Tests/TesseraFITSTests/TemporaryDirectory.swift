import Foundation
import TesseraFITS
import XCTest

/// A fresh directory under the system temporary directory, removed by `remove()`.
/// Each test makes its own so that tests never see each other's files.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("TesseraFITSTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Path of `name` inside the directory.
    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

extension XCTestCase {
    /// Makes a temporary directory that is removed when the test ends.
    func makeTemporaryDirectory() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        addTeardownBlock { directory.remove() }
        return directory
    }

    /// Runs `body`, asserts that it throws a `FITSError`, and returns that error for inspection.
    func expectFITSError(_ body: () throws -> Void, file: StaticString = #filePath,
                         line: UInt = #line) -> FITSError? {
        do {
            try body()
            XCTFail("expected a FITSError, nothing was thrown", file: file, line: line)
        } catch let error as FITSError {
            return error
        } catch {
            XCTFail("expected a FITSError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }
}
