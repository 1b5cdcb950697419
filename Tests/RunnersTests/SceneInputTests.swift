import Astrometry
import Foundation
@testable import ImageStores
import SceneModel
@testable import SceneRuns
import TesseraFITS
import TesseraHDF5
import TesseraTestSupport
import XCTest

/// Bad scene input: NaN, zero-weight and masked pixels, an exposure with every pixel masked, a
/// band with no PSF, a source outside every exposure, broken catalogs. XCTest (not Swift
/// Testing) because these touch HDF5, which is not thread-safe here, and XCTest runs serially.
final class SceneInputTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory(prefix: "scene-input").path
    }

    let wcs = try! WCS(crval1: 53, crval2: -27, crpix1: 10.5, crpix2: 10.5, cd11: -0.1 / 3600, cd12: 0, cd21: 0, cd22: 0.1 / 3600)

    /// A 20×20 exposure: science (with `nan` NaN pixels), uncertainty (with `zeroWeight` zeros), mask.
    func writeExposure(_ name: String, band: String = "F200W", nan: [Int] = [], zeroWeight: [Int] = [], masked: [Int] = [],
                       maskAll: Bool = false) throws -> String {
        let n = 20
        var sci = [Float](repeating: 1, count: n * n), unc = [Float](repeating: 0.5, count: n * n)
        var mask = [Float](repeating: maskAll ? 1 : 0, count: n * n)
        for i in nan { sci[i] = .nan }
        for i in zeroWeight { unc[i] = 0 }
        for i in masked { mask[i] = 4 }
        let path = dir + "/\(name).fits"
        let f = try FITSFile(creatingAt: path, overwrite: true)
        try f.appendImage(FITSImage<Float>(shape: [1], pixels: [0]))
        let h = try f.appendImage(FITSImage(width: n, height: n, pixels: sci), extname: "SCI")
        try f.writeWCS(wcs, hdu: h)
        try f.writeKeyword("FILTER", .string(band), hdu: h)
        try f.writeKeyword("CALIB", .double(2), hdu: h)
        try f.writeKeyword("EXPNAME", .string(name), hdu: h)
        try f.appendImage(FITSImage(width: n, height: n, pixels: unc), extname: "UNC")
        try f.appendImage(FITSImage(width: n, height: n, pixels: mask), extname: "MASK")
        try f.close()
        return path
    }

    func testNaNZeroWeightAndMaskedPixelsAreDropped() throws {
        let path = try writeExposure("e1", nan: [0, 5, 17], zeroWeight: [20, 21], masked: [399, 5])
        var messages: [String] = []
        let ingested = try PixelStore.build(images: [path], output: dir + "/pixels.h5", maskHDU: 3, log: { messages.append($0) })
        XCTAssertEqual(ingested[0].dropped, 6)  // pixel 5 is both NaN and masked
        XCTAssertEqual(ingested[0].used, 394)
        XCTAssertTrue(messages.contains { $0.contains("dropped 6 of 400") }, "\(messages)")
        let store = try PixelStore(path: dir + "/pixels.h5")
        let (data, ierr) = try store.readAll(exposure: store.exposures[0])
        for i in [0, 5, 17, 20, 21, 399] { XCTAssertEqual(ierr[i], 0, "pixel \(i) must be dropped") }
        XCTAssertTrue(data.allSatisfy(\.isFinite))
        XCTAssertEqual(ierr[1], 2)
        XCTAssertEqual(store.exposures[0].band, "F200W")
        XCTAssertEqual(store.exposures[0].calibration, 2)
    }

    func testFullyMaskedExposureIsLoggedAndNeverUsed() throws {
        let good = try writeExposure("good"), bad = try writeExposure("bad", maskAll: true)
        var messages: [String] = []
        _ = try PixelStore.build(images: [good, bad], output: dir + "/pixels.h5", maskHDU: 3, log: { messages.append($0) })
        XCTAssertTrue(messages.contains { $0.contains("bad.fits") && $0.contains("every pixel is masked") }, "\(messages)")
        try PSFStore.write(["F200W": .gaussian(sigma: 1)], to: URL(fileURLWithPath: dir + "/psf.h5"))
        let builder = try PatchBuilder(store: try PixelStore(path: dir + "/pixels.h5"), psfs: try PSFStore(contentsOf: URL(fileURLWithPath: dir + "/psf.h5")),
                                       bands: ["F200W"], sersic: try SersicMixture.bundled(), defaultROI: 0.5)
        let s = Source(id: 7, ra: 53, dec: -27, flux: [10])
        let patch = try builder.build(active: [s], roi: [nil], fixed: [], anchors: [s])
        XCTAssertEqual(patch.exposureNames, ["good"], "the fully masked exposure contributes no pixels")
    }

    func testBandWithoutPSFAndSourceOutsideEveryImage() throws {
        let a = try writeExposure("a", band: "F200W"), b = try writeExposure("b", band: "F444W")
        _ = try PixelStore.build(images: [a, b], output: dir + "/pixels.h5")
        try PSFStore.write(["F200W": .gaussian(sigma: 1)], to: URL(fileURLWithPath: dir + "/psf.h5"))
        let store = try PixelStore(path: dir + "/pixels.h5"), psfs = try PSFStore(contentsOf: URL(fileURLWithPath: dir + "/psf.h5"))
        XCTAssertThrowsError(try PatchBuilder(store: store, psfs: psfs, bands: ["F200W", "F444W"], sersic: try SersicMixture.bundled(), defaultROI: 0.5)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("psf.h5") && text.contains("F444W"), text)
        }
        let builder = try PatchBuilder(store: store, psfs: psfs, bands: ["F200W"], sersic: try SersicMixture.bundled(), defaultROI: 0.5)
        XCTAssertTrue(builder.covers(Source(id: 1, ra: 53, dec: -27, flux: [1])))
        let far = Source(id: 2, ra: 53.5, dec: -27, flux: [1])
        XCTAssertFalse(builder.covers(far))
        XCTAssertThrowsError(try builder.build(active: [far], roi: [nil], fixed: [], anchors: [far])) { error in
            XCTAssertTrue("\(error)".contains("no usable pixels for sources 2"), "\(error)")
        }
    }

    func testBrokenCatalogsNameFileAndColumn() throws {
        XCTAssertThrowsError(try SceneCatalog.read(dir + "/missing.fits", bands: ["F200W"])) { XCTAssertTrue("\($0)".contains("missing.fits")) }
        let path = dir + "/cat.fits"
        let f = try FITSFile(creatingAt: path, overwrite: true)
        _ = try f.appendTable([.int64("id", [1, 2]), .double("ra", [53, 53]), .double("dec", [-27, .nan]), .double("q", [1, 1]),
                               .double("pa", [0, 0]), .double("sersic", [1, 1]), .double("rhalf", [0.1, 0.1]), .double("F200W", [1, 2])])
        try f.close()
        XCTAssertThrowsError(try SceneCatalog.read(path, bands: ["F200W", "F444W"])) { error in
            XCTAssertTrue("\(error)".contains("cat.fits") && "\(error)".contains("F444W"), "\(error)")
        }
        XCTAssertThrowsError(try SceneCatalog.read(path, bands: ["F200W"])) { error in
            XCTAssertTrue("\(error)".contains("dec") && "\(error)".contains("row 1"), "\(error)")
        }
    }
}
