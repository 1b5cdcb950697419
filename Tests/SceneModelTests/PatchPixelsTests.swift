import Astrometry
import Foundation
import XCTest
@testable import SceneModel

final class PatchPixelsTests: XCTestCase {
    /// 0.1″ pixels, north up, east left, reference at pixel (19.5, 19.5) of a 40 × 30 exposure.
    let wcs = try! WCS(crval1: 53, crval2: -27, crpix1: 20.5, crpix2: 20.5, cd11: -0.1 / 3600, cd12: 0, cd21: 0, cd22: 0.1 / 3600)

    func testSelectsTheUnmaskedPixelsWithinTheCircles() throws {
        let plane = TangentPlane(ra0: 53, dec0: -27)
        let a = plane.sky(xi: 0.3, eta: 0.2), b = plane.sky(xi: -1.2, eta: 0.9)  // arcsec
        let roi = [0.5, 0.35]
        let pixels = try XCTUnwrap(PatchPixels(wcs: wcs, width: 40, height: 30, positions: [a, b], roi: roi))
        // Brute force over the whole exposure, one masked pixel.
        let centres = [a, b].map { wcs.skyToPixel(ra: $0.ra, dec: $0.dec) }
        let masked = (x: 17, y: 20)
        var expected: [(Double, Double)] = []
        for y in 0..<30 {
            for x in 0..<40 where !(x == masked.x && y == masked.y) {
                if zip(centres, roi).contains(where: { c, r in
                    let dx = Double(x) - c.x, dy = Double(y) - c.y, rp = r / wcs.pixelScale
                    return dx * dx + dy * dy <= rp * rp
                }) { expected.append((Double(x), Double(y))) }
            }
        }
        let n = pixels.width * pixels.height
        var data = (0..<n).map { Float($0) }, ierr = [Float](repeating: 2, count: n)
        let maskedIndex = (masked.y - pixels.y0) * pixels.width + (masked.x - pixels.x0)
        ierr[maskedIndex] = 0
        data[0] = 7
        let picked = pixels.select(data: data, inverseError: ierr)
        XCTAssertTrue(picked.x.count == expected.count && !expected.isEmpty)
        XCTAssertEqual(zip(picked.x, picked.y).map { [$0, $1] }, expected.map { [$0.0, $0.1] })  // row by row
        XCTAssertTrue(picked.inverseError.allSatisfy { $0 == 2 })
        for (k, (x, y)) in zip(picked.x, picked.y).enumerated() {
            let i = (Int(y) - pixels.y0) * pixels.width + (Int(x) - pixels.x0)
            XCTAssertEqual(picked.data[k], Double(data[i]))
        }
    }

    func testClipsToTheExposureAndRefusesSourcesOffIt() throws {
        let edge = wcs.pixelToSky(x: 0.2, y: 29.5)
        let pixels = try XCTUnwrap(PatchPixels(wcs: wcs, width: 40, height: 30, positions: [edge], roi: [0.4]))
        XCTAssertTrue(pixels.x0 == 0 && pixels.y1 == 29 && pixels.x1 == 5 && pixels.y0 == 25)
        let far = wcs.pixelToSky(x: -20, y: 10)
        XCTAssertNil(PatchPixels(wcs: wcs, width: 40, height: 30, positions: [far], roi: [0.5]))
    }

    /// A point source rendered on a whole exposure holds its flux × calibration in counts, and
    /// peaks at its WCS pixel position.
    func testExposureRendererConservesFlux() throws {
        let sersic = try SersicMixture(radii: [0.5, 1.5], nodes: [0.5, 6], amplitudes: [[0.5, 0.5], [0.5, 0.5]])
        let sky = wcs.pixelToSky(x: 21, y: 12)
        let source = Source(id: 1, ra: sky.ra, dec: sky.dec, flux: [0, 50], isPoint: true)
        let image = try ExposureRenderer.render([source], bands: ["g", "r"], band: 1, wcs: wcs, width: 40, height: 30,
                                                psf: .gaussian(sigma: 1.5), calibration: 2, sersic: sersic)
        XCTAssertEqual(image.count, 1200)
        XCTAssertLessThan(abs(image.reduce(0, +) - 100), 1e-6)
        XCTAssertEqual(image.indices.max { image[$0] < image[$1] }, 12 * 40 + 21)
        let otherBand = try ExposureRenderer.render([source], bands: ["g", "r"], band: 0, wcs: wcs, width: 40, height: 30,
                                                    psf: .gaussian(sigma: 1.5), calibration: 2, sersic: sersic)
        XCTAssertTrue(otherBand.allSatisfy { $0 == 0 })
    }
}
