import Foundation
import XCTest
import TesseraFITS
import TesseraHDF5

/// `tessera magmap` as a user runs it: both output formats, with and without the mean-field
/// compensation, and its provenance in the file.
final class MagMapCommandTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("magmap-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func magmap(_ extra: [String], out: String) throws -> Launcher.Result {
        try Launcher.run(["magmap", "--kappa", "0.45", "--gamma", "0.45", "--s", "0.5", "--size-re", "10", "--pixels", "40",
                          "--rays-per-pixel", "4", "--seed", "3", "--out", out] + extra)
    }

    func testFITSAndHDF5RecordTheCompensation() throws {
        for compensate in [true, false] {
            let flag = compensate ? [] : ["--no-mean-field-compensation"]
            let fits = directory + "/map-\(compensate).fits", h5 = directory + "/map-\(compensate).h5"
            let r1 = try magmap(flag, out: fits), r2 = try magmap(flag, out: h5)
            XCTAssertEqual(r1.status, 0, r1.stderr)
            XCTAssertEqual(r2.status, 0, r2.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: fits + ".partial"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: h5 + ".partial"))

            let header = try FITSFile(path: fits).readHeader(hdu: 0)
            XCTAssertEqual(try header.int("MFCOMP"), compensate ? 1 : 0)
            XCTAssertEqual(header.contains("MFKAPPA"), compensate)
            XCTAssertEqual(header.contains("MFGAMMA1"), compensate)
            let file = try HDF5File.open(h5)
            XCTAssertEqual(try file.attribute("compensate_mean_field", of: "/magnification"), .int(compensate ? 1 : 0))
            let names = try file.attributeNames(of: "/magnification")
            XCTAssertEqual(names.contains("preimage_kappa_star"), compensate, "\(names)")
            if compensate, case let .double(k) = try file.attribute("preimage_kappa_star", of: "/magnification") {
                // The pre-image holds κ*·A/π stars to within one: κ* = 0.225, A = 50 × 5 θ_E².
                XCTAssertEqual(k, 0.225, accuracy: Double.pi / 250 + 1e-9)
            }
            let fitsPixels = try FITSFile(path: fits).readImage(Float.self, hdu: 0).pixels
            let h5Pixels = try file.read(Float.self, from: "/magnification").values
            try file.close()
            XCTAssertEqual(fitsPixels, h5Pixels, "the two formats hold the same map")
        }
    }

    func testThreadsGiveTheSameMapAndBadValuesAreRejected() throws {
        let one = directory + "/one.h5", two = directory + "/two.h5"
        XCTAssertEqual(try magmap([], out: one).status, 0)
        let r = try magmap(["--threads", "2"], out: two)
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try HDF5File.open(one), b = try HDF5File.open(two)
        XCTAssertEqual(try a.read(Float.self, from: "/magnification").values, try b.read(Float.self, from: "/magnification").values)
        try a.close(); try b.close()
        let bad = try magmap(["--threads", "0"], out: directory + "/bad.h5")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--threads"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/bad.h5"))
    }
}
