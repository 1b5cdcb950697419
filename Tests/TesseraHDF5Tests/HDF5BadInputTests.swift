import Foundation
import XCTest
@testable import TesseraHDF5

/// Bad input must give an error that names the file and the object, never a crash or a silent default.
final class HDF5BadInputTests: XCTestCase {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("h5bad-\(UUID().uuidString)")

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testMissingFile() {
        let missing = directory.appendingPathComponent("nothing.h5").path
        XCTAssertThrowsError(try HDF5File.open(missing)) { error in
            XCTAssertEqual("\(error)", "\(missing): open failed: no such file")
        }
    }

    func testPathThatDoesNotExist() throws {
        let path = directory.appendingPathComponent("a.h5").path
        let file = try HDF5File.create(path)
        try file.write([1.0], to: "/results/chain")
        XCTAssertFalse(try file.exists("/results/missing/deeper"))
        XCTAssertThrowsError(try file.read(Double.self, from: "/results/missing/deeper")) { error in
            XCTAssertEqual("\(error)", "\(path): /results/missing/deeper: open dataset failed: no such object in the file")
        }
        XCTAssertThrowsError(try file.createDataset("/results/chain", of: Double.self, shape: [1])) { error in
            XCTAssertTrue("\(error)".contains("already exists"), "\(error)")
        }
        XCTAssertThrowsError(try file.readStrings(from: "/results/chain")) { error in
            XCTAssertTrue("\(error)".contains("/results/chain") && "\(error)".contains("does not hold strings"), "\(error)")
        }
    }

    func testNotHDF5AndTruncatedFiles() throws {
        let text = directory.appendingPathComponent("notes.h5").path
        try Data("this is not HDF5\n".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try HDF5File.open(text)) { error in
            XCTAssertTrue("\(error)".hasPrefix(text) && "\(error)".contains("not an HDF5 file"), "\(error)")
        }

        let good = directory.appendingPathComponent("good.h5").path
        let file = try HDF5File.create(good)
        try file.write((0..<100_000).map(Double.init), to: "big")
        try file.close()
        let data = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = directory.appendingPathComponent("cut.h5").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        // A file cut short fails on open or on read, always with its name; never returns garbage.
        do {
            let truncated = try HDF5File.open(cut)
            XCTAssertThrowsError(try truncated.read(Double.self, from: "big")) { error in
                XCTAssertTrue("\(error)".hasPrefix(cut), "\(error)")
            }
        } catch {
            XCTAssertTrue("\(error)".hasPrefix(cut), "\(error)")
        }
    }

    func testCreateWithoutOverwriteRefusesExistingFile() throws {
        let path = directory.appendingPathComponent("keep.h5").path
        try HDF5File.create(path).close()
        XCTAssertThrowsError(try HDF5File.create(path, overwrite: false)) { error in
            XCTAssertTrue("\(error)".contains("file exists"), "\(error)")
        }
    }
}
