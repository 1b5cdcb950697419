import Foundation
@testable import TesseraFITS
import TesseraTestSupport
import XCTest

/// Damaged or wrong inputs must give an error that names the file — never a crash or garbage.
final class FITSBadInputTests: XCTestCase {
    func testMissingFileNamesPathAndSaysNoSuchFile() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("does-not-exist.fits")
        let error = assertThrows(FITSError.self) { _ = try FITSFile(path: path) }
        XCTAssertEqual(error?.reason, .fileNotFound)
        XCTAssertEqual(error?.path, path)
        let text = error?.description ?? ""
        XCTAssertTrue(text.contains(path), text)
        XCTAssertTrue(text.contains("no such file"), text)
    }

    func testTruncatedImageDataThrowsNamingTheFile() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("truncated.fits")
        let image = FITSImage<Double>(width: 100, height: 100, pixels: (0..<10_000).map { Double($0) })
        do {
            let file = try FITSFile(creatingAt: path)
            try file.appendImage(image)
            try file.close()
        }
        // Valid file: 2880-byte header + 80000 bytes of data (padded). Cut it inside the data.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 5000)
        try handle.close()

        let error = assertThrows(FITSError.self) {
            let file = try FITSFile(path: path)
            defer { try? file.close() }
            _ = try file.readImage(Double.self)
        }
        XCTAssertEqual(error?.path, path)
        XCTAssertEqual(error?.reason, .truncated)
        XCTAssertNotEqual(error?.status, 0)
        XCTAssertFalse(error?.statusText.isEmpty ?? true)
        XCTAssertFalse(error?.messages.isEmpty ?? true, "CFITSIO's message stack should be included")
        let text = error?.description ?? ""
        XCTAssertTrue(text.contains(path), text)
        XCTAssertTrue(text.contains("CFITSIO status"), text)
    }

    func testTextFileIsNotFITS() throws {
        let directory = try makeTemporaryDirectory()
        for (name, repeats) in [("short.txt", 3), ("long.txt", 500)] {
            let path = directory.path(name)
            let text = String(repeating: "This is a plain text file, not FITS.\n", count: repeats)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let error = assertThrows(FITSError.self) { _ = try FITSFile(path: path) }
            XCTAssertEqual(error?.reason, .notFITS, name)
            XCTAssertEqual(error?.path, path)
            let description = error?.description ?? ""
            XCTAssertTrue(description.contains(path), description)
            XCTAssertTrue(description.contains("not a FITS file"), description)
        }
    }

    func testEmptyFileIsNotFITS() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("empty.fits")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        let error = assertThrows(FITSError.self) { _ = try FITSFile(path: path) }
        XCTAssertEqual(error?.path, path)
        XCTAssertTrue(error?.reason == .notFITS || error?.reason == .truncated, "\(String(describing: error))")
    }

    func testPathsAreLiteralNotCFITSIOSyntax() throws {
        let directory = try makeTemporaryDirectory()
        // With CFITSIO's extended syntax this would mean "HDU 1 of a.fits"; here it is a file name.
        let path = directory.path("a.fits[1]")
        let file = try FITSFile(creatingAt: path)
        try file.appendImage(FITSImage<Float>(width: 2, height: 1, pixels: [1, 2]))
        try file.close()
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FITSFile(path: path).readImage(Float.self).pixels, [1, 2])
    }
}
