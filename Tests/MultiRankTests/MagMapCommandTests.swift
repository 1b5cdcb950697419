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

    /// Runs `tessera magmap` into the run directory `out`, as HDF5 unless `out` ends in `.fits`;
    /// the map is then `out`/map.h5 or `out`/map.fits.
    private func magmap(_ extra: [String], out: String) throws -> Launcher.Result {
        let format = out.hasSuffix(".fits") ? ["--format", "fits"] : []
        return try Launcher.run(["magmap", "--kappa", "0.45", "--gamma", "0.45", "--s", "0.5", "--size-re", "10", "--pixels", "40",
                                 "--rays-per-pixel", "4", "--seed", "3", "--out", out] + format + extra)
    }

    /// The map file inside a run directory made by `magmap(_:out:)`.
    private func mapFile(_ out: String) -> String { out + (out.hasSuffix(".fits") ? "/map.fits" : "/map.h5") }

    func testFITSAndHDF5RecordTheCompensation() throws {
        for compensate in [true, false] {
            let flag = compensate ? [] : ["--no-mean-field-compensation"]
            let fits = directory + "/map-\(compensate).fits", h5 = directory + "/map-\(compensate)"
            let r1 = try magmap(flag, out: fits), r2 = try magmap(flag, out: h5)
            XCTAssertEqual(r1.status, 0, r1.stderr)
            XCTAssertEqual(r2.status, 0, r2.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: mapFile(fits) + ".partial"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: mapFile(h5) + ".partial"))

            let header = try FITSFile(path: mapFile(fits)).readHeader(hdu: 0)
            XCTAssertEqual(try header.int("MFCOMP"), compensate ? 1 : 0)
            XCTAssertEqual(header.contains("MFKAPPA"), compensate)
            XCTAssertEqual(header.contains("MFGAMMA1"), compensate)
            let file = try HDF5File.open(mapFile(h5))
            XCTAssertEqual(try file.attribute("compensate_mean_field", of: "/magnification"), .int(compensate ? 1 : 0))
            let names = try file.attributeNames(of: "/magnification")
            XCTAssertEqual(names.contains("preimage_kappa_star"), compensate, "\(names)")
            if compensate, case let .double(k) = try file.attribute("preimage_kappa_star", of: "/magnification") {
                // The pre-image holds κ*·A/π stars to within one: κ* = 0.225, A = 50 × 5 θ_E².
                XCTAssertEqual(k, 0.225, accuracy: Double.pi / 250 + 1e-9)
            }
            let fitsPixels = try FITSFile(path: mapFile(fits)).readImage(Float.self, hdu: 0).pixels
            let h5Pixels = try file.read(Float.self, from: "/magnification").values
            try file.close()
            XCTAssertEqual(fitsPixels, h5Pixels, "the two formats hold the same map")
        }
    }

    /// The file tells how the map was made: its star field (HDF5 /stars, FITS STARS table), the
    /// light loss and the shooting rectangle it implies, and the star field's radius.
    func testTheFileHoldsItsStarFieldAndShootingRegion() throws {
        let h5 = directory + "/stars", fits = directory + "/stars.fits"
        for out in [h5, fits] {
            let r = try magmap(["--light-loss", "0.001"], out: out)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let file = try HDF5File.open(mapFile(h5))
        func double(_ name: String) throws -> Double {
            guard case let .double(v) = try file.attribute(name, of: "/magnification") else {
                XCTFail("attribute \(name) is missing or not a double")
                return .nan
            }
            return v
        }
        guard case let .int(count) = try file.attribute("stars", of: "/magnification") else { return XCTFail("no star count") }
        let x = try file.read(Double.self, from: "/stars/x").values, y = try file.read(Double.self, from: "/stars/y").values
        let mass = try file.read(Double.self, from: "/stars/mass").values
        guard case let .double(radius) = try file.attribute("radius", of: "/stars/x") else { return XCTFail("no radius") }
        XCTAssertEqual(x.count, Int(count))
        XCTAssertEqual(y.count, x.count)
        XCTAssertEqual(mass, [Double](repeating: 1, count: x.count))
        XCTAssertTrue(zip(x, y).allSatisfy { $0 * $0 + $1 * $1 <= radius * radius * (1 + 1e-12) })
        XCTAssertEqual(try double("light_loss"), 0.001)
        // D = √(κ*/ε) = √(0.225/0.001) = 15 θ_E; half-widths (h + D)/|λ| with h = 5, λ = 0.1 and 1.
        XCTAssertEqual(try double("source_margin"), 15, accuracy: 1e-12)
        XCTAssertEqual(try double("shooting_half_width_x"), 200, accuracy: 1e-9)
        XCTAssertEqual(try double("shooting_half_width_y"), 20, accuracy: 1e-9)
        XCTAssertEqual(try double("star_field_radius"), radius)
        // κ* = Σm/R² of the disk the stars fill.
        XCTAssertEqual(Double(x.count) / (radius * radius), 0.225, accuracy: 1e-12)
        try file.close()

        let table = try FITSFile(path: mapFile(fits))
        let hdu = try table.moveToHDU(named: "STARS")
        XCTAssertEqual(try table.readColumn("X", as: Double.self, hdu: hdu.index), x)
        XCTAssertEqual(try table.readColumn("MASS", as: Double.self, hdu: hdu.index), mass)
        XCTAssertEqual(try table.readHeader(hdu: 0).double("LIGHTLOS"), 0.001)

        let bad = try magmap(["--light-loss", "1.5"], out: directory + "/bad")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--light-loss"), bad.stderr)
    }

    /// `--method ipm` maps polygons over the same grid: recorded in both formats, the same mean
    /// as ray shooting to its discretisation, and an unknown method is refused.
    func testPolygonMappingMethod() throws {
        let irs = directory + "/irs", ipm = directory + "/ipm", fits = directory + "/ipm.fits"
        XCTAssertEqual(try magmap([], out: irs).status, 0)
        for out in [ipm, fits] {
            let r = try magmap(["--method", "ipm"], out: out)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let a = try HDF5File.open(mapFile(irs)), b = try HDF5File.open(mapFile(ipm))
        XCTAssertEqual(try a.attribute("method", of: "/magnification"), .string("irs"))
        XCTAssertEqual(try b.attribute("method", of: "/magnification"), .string("ipm"))
        guard case let .double(ma) = try a.attribute("mean_magnification", of: "/magnification"),
              case let .double(mb) = try b.attribute("mean_magnification", of: "/magnification") else {
            return XCTFail("no mean_magnification")
        }
        try a.close(); try b.close()
        XCTAssertEqual(mb / ma, 1, accuracy: 0.01)
        XCTAssertEqual(try FITSFile(path: mapFile(fits)).readHeader(hdu: 0).string("METHOD"), "ipm")
        let bad = try magmap(["--method", "polygons"], out: directory + "/bad")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--method"), bad.stderr)
    }

    func testThreadsGiveTheSameMapAndBadValuesAreRejected() throws {
        let one = directory + "/one", two = directory + "/two"
        XCTAssertEqual(try magmap([], out: one).status, 0)
        let r = try magmap(["--threads", "2"], out: two)
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try HDF5File.open(mapFile(one)), b = try HDF5File.open(mapFile(two))
        XCTAssertEqual(try a.read(Float.self, from: "/magnification").values, try b.read(Float.self, from: "/magnification").values)
        try a.close(); try b.close()
        let bad = try magmap(["--threads", "0"], out: directory + "/bad")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--threads"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/bad"))
    }

    /// magmap makes a run directory like every result command: params.json (the resolved
    /// options, as enum spellings), metadata.json, and the map written by the runner layer;
    /// `--config params.json` (what `tessera reproduce` runs) makes the same map.
    func testRunDirectoryAndReproduction() throws {
        let run = directory + "/run"
        let r = try magmap(["--method", "ipm", "--source-profile", "disk", "--source-size", "0", "--source-size", "0.5"], out: run)
        XCTAssertEqual(r.status, 0, r.stderr)
        let params = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/params.json"))) as? [String: Any]
        XCTAssertEqual(params?["method"] as? String, "ipm")
        XCTAssertEqual(params?["source_profile"] as? String, "disk")
        XCTAssertEqual(params?["mass_function"] as? String, "unit")
        XCTAssertEqual(params?["format"] as? String, "h5")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/metadata.json"))
        XCTAssertTrue(r.stdout.contains("/run/map.h5"), r.stdout)
        let again = directory + "/again"
        let r2 = try Launcher.run(["magmap", "--config", run + "/params.json", "--out", again])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        let a = try HDF5File.open(run + "/map.h5"), b = try HDF5File.open(again + "/map.h5")
        XCTAssertEqual(try a.read(Float.self, from: "/magnification").values, try b.read(Float.self, from: "/magnification").values)
        XCTAssertEqual(try a.read(Double.self, from: "/histogram/pdf").values, try b.read(Double.self, from: "/histogram/pdf").values)
        XCTAssertEqual(try a.attribute("source_profile", of: "/histogram/pdf"), .string("disk"))
        try a.close(); try b.close()
        let bad = try magmap(["--source-profile", "box"], out: directory + "/bad")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--source-profile"), bad.stderr)
    }
}
