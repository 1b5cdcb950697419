import Foundation
@testable import ImageStores
import SceneModel
@testable import SceneRuns
import TesseraFITS
import TesseraHDF5
import TesseraTestSupport
import XCTest

// Serialized: the HDF5 library here is not thread-safe.
final class PSFStoreTests: XCTestCase {
    func temporaryURL(_ name: String) throws -> URL {
        try makeTemporaryDirectory(prefix: "psfstore").url.appendingPathComponent(name)
    }

    let f200w = PSFMixture(components: [
        GaussianComponent(amplitude: 0.7, x: 0.01, y: -0.02, cxx: 1.2, cxy: 0.1, cyy: 1.1),
        GaussianComponent(amplitude: 0.3, cxx: 9, cxy: -0.5, cyy: 8),
    ])
    let f444w = PSFMixture.gaussian(sigma: 2.5)
    let exposure1 = PSFMixture(components: [GaussianComponent(amplitude: 1, x: 0.3, cxx: 1.5, cyy: 1.4)])

    func testRoundTripWithExposureFallback() throws {
        let url = try temporaryURL("psf.h5")
        try PSFStore.write(["F200W": f200w, "F444W": f444w], exposures: ["F200W": ["jw01_nrca1": exposure1]], to: url)
        let store = try PSFStore(contentsOf: url)
        XCTAssertEqual(store.bandNames, ["F200W", "F444W"])
        XCTAssertEqual(try store.psf(band: "F200W", exposure: nil), f200w)
        XCTAssertEqual(try store.psf(band: "F444W"), f444w)
        // The exposure's own PSF overrides the band's; other exposures fall back to the band's.
        XCTAssertEqual(try store.psf(band: "F200W", exposure: "jw01_nrca1"), exposure1)
        XCTAssertEqual(try store.psf(band: "F200W", exposure: "jw01_nrca2"), f200w)
        XCTAssertEqual(try store.psf(band: "F444W", exposure: "jw01_nrca1"), f444w)

        // The layout is the documented one (h5py readers rely on it).
        let file = try HDF5File.open(url.path)
        XCTAssertEqual(try file.members(of: "/F200W"), ["amplitude", "cxx", "cxy", "cyy", "jw01_nrca1", "x", "y"])
        XCTAssertEqual(try file.read(Double.self, from: "/F200W/cxx").values, [1.2, 9])
        XCTAssertEqual(try file.attribute("n_components", of: "/F200W").intValue, 2)
        XCTAssertEqual(try file.attribute("n_components", of: "/F200W/jw01_nrca1").intValue, 1)
        try file.close()
    }

    func testMissingBandErrorNamesFileAndBand() throws {
        let url = try temporaryURL("psf.h5")
        try PSFStore.write(["F200W": f200w], to: url)
        let store = try PSFStore(contentsOf: url)
        let error = assertThrows(PSFStoreError.self) { try store.psf(band: "F356W", exposure: "x") }
        let text = "\(error!)"
        XCTAssertTrue(text.contains(url.path) && text.contains("'F356W'") && text.contains("F200W"), "\(text)")
        // A band that only has exposure PSFs serves those exposures but not others.
        let onlyExposures = PSFStore(exposures: ["F090W": ["e1": PSFStoreEntry(mixture: exposure1)]])
        XCTAssertEqual(try onlyExposures.psf(band: "F090W", exposure: "e1"), exposure1)
        assertThrows(PSFStoreError.self) { try onlyExposures.psf(band: "F090W", exposure: "e2") }
    }

    func testRejectsBadNamesAndInvalidMixtures() throws {
        let url = try temporaryURL("psf.h5")
        assertThrows(PSFStoreError.self) { try PSFStore.write(["a/b": f200w], to: url) }
        assertThrows(PSFStoreError.self) { try PSFStore.write(["F200W": f200w], exposures: ["F200W": ["cxx": f444w]], to: url) }
        let bad = PSFMixture(components: [GaussianComponent(amplitude: 1, cxx: 1, cxy: 2, cyy: 1)])
        assertThrows(SceneModelError.self) { try PSFStore.write(["F200W": bad], to: url) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        // A file that is HDF5 but not a store.
        let other = try temporaryURL("other.h5")
        let file = try HDF5File.create(other.path)
        try file.write([1.0], to: "/F200W/amplitude")
        try file.close()
        let error = assertThrows(PSFStoreError.self) { try PSFStore(contentsOf: other) }
        XCTAssertTrue("\(error!)".contains(other.path))
    }

    func testFitPSFFromFITSAddsToStore() throws {
        // A circular Gaussian, σ = 1.8 pixels, integrated exactly over pixels, in HDU 1.
        let (w, h, cx, cy, sigma) = (31, 29, 15.4, 13.9, 1.8)
        func band(_ i: Int, _ c: Double) -> Double {
            0.5 * (erf((Double(i) + 0.5 - c) / (sigma * 2.0.squareRoot())) - erf((Double(i) - 0.5 - c) / (sigma * 2.0.squareRoot())))
        }
        var pixels = [Float](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w { pixels[y * w + x] = Float(band(x, cx) * band(y, cy)) } }
        let fitsURL = try temporaryURL("psf.fits")
        let fits = try FITSFile(creatingAt: fitsURL.path)
        try fits.appendImage(FITSImage<Float>(width: 3, height: 3, pixels: [Float](repeating: 0, count: 9)))
        try fits.appendImage(FITSImage<Float>(width: w, height: h, pixels: pixels), extname: "DET_SAMP")
        try fits.close()

        let storeURL = try temporaryURL("psf.h5")
        try PSFStore.write(["F444W": f444w], to: storeURL)
        let s = try PSFFitRunner.run(imagePath: fitsURL.path, hdu: 1, band: "F200W", exposure: nil,
                                     options: PSFFitOptions(components: 1), storePath: storeURL.path)
        XCTAssertEqual(s.storeBands, ["F200W", "F444W"])
        let store = try PSFStore(contentsOf: storeURL)
        XCTAssertEqual(try store.psf(band: "F444W"), f444w)  // kept
        let entry = try store.entry(band: "F200W")
        let c = entry.mixture.components[0]
        XCTAssertTrue(abs(c.cxx / (sigma * sigma) - 1) < 2e-3 && abs(c.cyy / (sigma * sigma) - 1) < 2e-3, "\(c)")
        XCTAssertEqual(entry.sourceImage, "\(fitsURL.path)[1]")
        XCTAssertTrue(entry.fitResidual == s.fit.residualFraction && entry.fitResidual < 0.01)

        // The primary HDU is all zeros: a clear error naming the image, and the store is untouched.
        let error = assertThrows(PSFStoreError.self) {
            try PSFFitRunner.run(imagePath: fitsURL.path, hdu: 0, band: "F200W", exposure: "e1",
                                 options: PSFFitOptions(components: 1), storePath: storeURL.path)
        }
        XCTAssertTrue("\(error!)".contains(fitsURL.path) && "\(error!)".contains("no positive pixels"))
        XCTAssertTrue(try PSFStore(contentsOf: storeURL).exposures.isEmpty)
    }
}
