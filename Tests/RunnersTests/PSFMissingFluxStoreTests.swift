import Foundation
@testable import ImageStores
import SceneModel
@testable import SceneRuns
import TesseraFITS
import TesseraTestSupport
import XCTest

/// `tessera fit-psf` stores the fraction of the PSF image's flux its mixture misses as the
/// group attribute `missing_flux_fraction`, read back into `PSFStoreEntry.missingFlux`.
final class PSFMissingFluxStoreTests: XCTestCase {
    func testFitPSFStoresTheMissingFlux() throws {
        let dir = try makeTemporaryDirectory(prefix: "psfmissing").url
        let (n, c) = (41, 20.0)
        var pixels = [Float](repeating: 0, count: n * n)
        for y in 0..<n { for x in 0..<n {
            let r2 = (Double(x) - c) * (Double(x) - c) + (Double(y) - c) * (Double(y) - c)
            pixels[y * n + x] = Float(pow(1 + r2 / 4, -2))  // Moffat β = 2: wings one Gaussian misses
        } }
        let fitsPath = dir.appendingPathComponent("psf.fits").path
        let fits = try FITSFile(creatingAt: fitsPath)
        try fits.appendImage(FITSImage<Float>(width: n, height: n, pixels: pixels))
        try fits.close()
        let store = dir.appendingPathComponent("psf.h5")
        let s = try PSFFitRunner.run(imagePath: fitsPath, hdu: nil, band: "F200W", exposure: nil,
                                     options: PSFFitOptions(components: 1), storePath: store.path)
        XCTAssertGreaterThan(abs(s.fit.missingFluxFraction), 0.02, "one Gaussian cannot match Moffat wings")
        let entry = try PSFStore(contentsOf: store).entry(band: "F200W")
        XCTAssertEqual(entry.missingFlux, s.fit.missingFluxFraction)
        // Entries not from a fit have none.
        try PSFStore.write(["F444W": PSFMixture.gaussian(sigma: 2)], to: store)
        XCTAssertTrue(try PSFStore(contentsOf: store).entry(band: "F444W").missingFlux.isNaN)
    }
}
