import Foundation
import TesseraFITS
import TesseraHDF5
import XCTest

/// `tessera preprocess` from the command line on a JWST-style `i2d` file: HDUs by EXTNAME, the
/// WHT plane as inverse variance, DQ bits, MJy/sr converted to nJy, with no header edited.
/// (The conversions themselves are checked value by value in RunnersTests.AstronomerInputTests;
/// this checks that the options reach them.)
final class PreprocessCommandTests: XCTestCase {
    let n = 12
    let pixarSR = 2.2587e-14

    func writeI2D(_ path: String) throws {
        let f = try FITSFile(creatingAt: path, overwrite: true)
        try f.appendImage(FITSImage<Float>(shape: [1], pixels: [0]))
        try f.writeKeyword("TELESCOP", .string("JWST"), hdu: 0)
        try f.writeKeyword("FILTER", .string("F200W"), hdu: 0)
        let sci = try f.appendImage(FITSImage<Double>(width: n, height: n, pixels: [Double](repeating: 0.05, count: n * n)), extname: "SCI")
        try f.writeKeyword("BUNIT", .string("MJy/sr"), hdu: sci)
        try f.writeKeyword("PIXAR_SR", .double(pixarSR), hdu: sci)
        for (k, v) in [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CUNIT1", "deg"), ("CUNIT2", "deg")] {
            try f.writeKeyword(k, .string(v), hdu: sci)
        }
        for (k, v) in [("CRPIX1", 6.5), ("CRPIX2", 6.5), ("CRVAL1", 53.16), ("CRVAL2", -27.78),
                       ("CDELT1", -0.031 / 3600), ("CDELT2", 0.031 / 3600)] {
            try f.writeKeyword(k, .double(v), hdu: sci)
        }
        try f.appendImage(FITSImage<Double>(width: n, height: n, pixels: [Double](repeating: 0.01, count: n * n)), extname: "ERR")
        try f.appendImage(FITSImage<Double>(width: n, height: n, pixels: [Double](repeating: 1e4, count: n * n)), extname: "WHT")
        // DQ: value 1 (DO_NOT_USE) on 2 pixels, 4 on 3 pixels, 512 on 1 pixel.
        var dq = [Double](repeating: 0, count: n * n)
        for i in [5, 17] { dq[i] = 1 }
        for i in [30, 31, 32] { dq[i] = 4 }
        dq[77] = 512
        try f.appendImage(FITSImage<Double>(width: n, height: n, pixels: dq), extname: "DQ")
        try f.close()
    }

    func testJWSTI2DThroughTheCommandLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preprocess-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = dir + "/jw01345-o001_t001_nircam_clear-f200w_i2d.fits"
        try writeI2D(image)

        let total = n * n
        // DQ bits 0 and 9: the DO_NOT_USE pixels and the 512 one are dropped, the bit-2 ones kept.
        let r = try Launcher.run(["preprocess", image, "--sci-hdu", "SCI", "--unc-hdu", "WHT", "--weights",
                                  "--mask-hdu", "DQ", "--dq-bad-bits", "0,9", "--out", dir + "/pixels.h5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1 exposures in bands F200W, \(total - 3) pixels used, 3 dropped"), r.stdout)
        XCTAssertTrue(r.stdout.contains("MJy/sr") && r.stdout.contains("PIXAR_SR"), r.stdout)
        // The stored science pixels are nJy: 0.05 MJy/sr × 2.2587e-14 sr × 1e15 nJy/MJy = 1.129 nJy.
        let store = try HDF5File.open(dir + "/pixels.h5")
        let values = try store.read(Float.self, from: "/exposures/jw01345-o001_t001_nircam_clear-f200w_i2d/data").values
        XCTAssertTrue(values.contains { abs(Double($0) - 0.05 * pixarSR * 1e15) < 1e-6 }, "\(values.prefix(5))")
        XCTAssertFalse(values.contains { abs(Double($0) - 0.05) < 1e-6 }, "pixels left in MJy/sr")

        // A DQ mask without a mask HDU is refused before anything is written.
        let bad = try Launcher.run(["preprocess", image, "--sci-hdu", "SCI", "--dq-bad-bits", "0", "--out", dir + "/bad.h5"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--dq-bad-bits needs --mask-hdu"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.h5"))
        // A misspelt EXTNAME names the file and the HDU.
        let typo = try Launcher.run(["preprocess", image, "--sci-hdu", "SCIENCE", "--out", dir + "/typo.h5"])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.stderr.contains(image) && typo.stderr.contains("SCIENCE"), typo.stderr)
    }
}
