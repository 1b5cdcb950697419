import Astrometry
import Foundation
import TesseraTestSupport
import XCTest

/// Explicit TAN WCSs covering the setups the astropy fixture (TesseraFITSTests) checks through
/// headers: rotated and mirrored, near a pole, across RA = 0/360, south.
let sampleWCSs: [(name: String, wcs: WCS)] = [
    ("rotated_flipped", try! WCS(crval1: 150.1, crval2: 2.2, crpix1: 512, crpix2: 480.5,
                                 cd11: -2.7e-5, cd12: 1.1e-5, cd21: 1.0e-5, cd22: 2.8e-5)),
    ("near_dec_plus80", try! WCS(crval1: 20, crval2: 80, crpix1: 1000, crpix2: 1000, cd11: -3e-4, cd12: 0, cd21: 0, cd22: 3e-4)),
    ("ra_wrap", try! WCS(crval1: 0.01, crval2: -5, crpix1: 50, crpix2: 60, cd11: -1e-4, cd12: 0, cd21: 0, cd22: 1e-4)),
    ("negative_dec_rotated", try! WCS(crval1: 53.1, crval2: -27.8, crpix1: 32.5, crpix2: 30,
                                      cd11: -2.7e-5 * cos(0.3), cd12: 2.7e-5 * sin(0.3),
                                      cd21: 2.7e-5 * sin(0.3), cd22: 2.7e-5 * cos(0.3))),
]

/// Pixel positions spread over (and beyond) a 1000-pixel exposure.
let samplePixels: [(x: Double, y: Double)] = [(0, 0), (511, 479.5), (999, 0), (-40, 1200), (250.25, 730.75), (1500, 1500)]

final class WCSTests: XCTestCase {
    func testJacobianAtReferencePointIsInverseCD() throws {
        let wcs = try WCS(crval1: 10, crval2: -30, crpix1: 100, crpix2: 200,
                          cd11: -2e-4, cd12: 5e-5, cd21: 4e-5, cd22: 1.8e-4)
        let j = wcs.pixelJacobian(ra: 10, dec: -30)
        let det = -2e-4 * 1.8e-4 - 5e-5 * 4e-5
        XCTAssertLessThan(abs(j.dxdXi - 1.8e-4 / det / 3600), 1e-12)
        XCTAssertLessThan(abs(j.dxdEta - -5e-5 / det / 3600), 1e-12)
        XCTAssertLessThan(abs(j.dydXi - -4e-5 / det / 3600), 1e-12)
        XCTAssertLessThan(abs(j.dydEta - -2e-4 / det / 3600), 1e-12)
        XCTAssertLessThan(j.determinant, 0)  // east-left image: mirrored
        XCTAssertEqual(wcs.referencePixel.x, 99)
        let sky = wcs.pixelToSky(x: 99, y: 199)
        XCTAssertTrue(abs(sky.ra - 10) < 1e-12 && abs(sky.dec - -30) < 1e-12)
        XCTAssertTrue(wcs.skyToPixel(ra: 190, dec: 30).x.isNaN)  // far hemisphere: no projection
        XCTAssertTrue(wcs.pixelJacobian(ra: 190, dec: 30).dxdXi.isNaN)
    }

    /// The analytic Jacobian against central finite differences of `skyToPixel` in local
    /// east/north offsets.
    func testJacobianMatchesFiniteDifferences() throws {
        let step = 0.05  // arcsec
        for (name, wcs) in sampleWCSs {
            for p in samplePixels {
                let (ra, dec) = wcs.pixelToSky(x: p.x, y: p.y)
                let dRA = step / 3600 / cos(dec * .pi / 180), dDec = step / 3600
                let east = wcs.skyToPixel(ra: ra + dRA, dec: dec), west = wcs.skyToPixel(ra: ra - dRA, dec: dec)
                let north = wcs.skyToPixel(ra: ra, dec: dec + dDec), south = wcs.skyToPixel(ra: ra, dec: dec - dDec)
                let numeric = PixelJacobian(dxdXi: (east.x - west.x) / (2 * step), dxdEta: (north.x - south.x) / (2 * step),
                                            dydXi: (east.y - west.y) / (2 * step), dydEta: (north.y - south.y) / (2 * step))
                let analytic = wcs.pixelJacobian(ra: ra, dec: dec)
                let scale = [analytic.dxdXi, analytic.dxdEta, analytic.dydXi, analytic.dydEta].map(abs).max()!
                for r in 0...1 {
                    for c in 0...1 {
                        XCTAssertLessThan(abs(analytic[r, c] - numeric[r, c]), 1e-7 * scale, "\(name) at \(p) [\(r), \(c)]")
                    }
                }
            }
        }
    }

    func testPixelSkyRoundTrips() {
        for (name, wcs) in sampleWCSs {
            for p in samplePixels {
                let sky = wcs.pixelToSky(x: p.x, y: p.y)
                XCTAssertTrue(sky.ra >= 0 && sky.ra < 360, "\(name): RA \(sky.ra)")
                let back = wcs.skyToPixel(ra: sky.ra, dec: sky.dec)
                XCTAssertTrue(abs(back.x - p.x) < 1e-8 && abs(back.y - p.y) < 1e-8, "\(name) at \(p): \(back)")
            }
        }
    }

    /// The image footprint runs from pixel −0.5 to size − 0.5 on each axis (0-based centres).
    func testImageContainsUsesPixelEdges() throws {
        let wcs = try WCS(crval1: 0.01, crval2: -5, crpix1: 50, crpix2: 60, cd11: -1e-4, cd12: 0, cd21: 0, cd22: 1e-4)
        for (x, y, inside) in [(-0.49, 0.0, true), (-0.51, 0.0, false), (99.49, 119.49, true), (99.51, 10.0, false),
                               (10.0, 119.51, false), (40.0, 30.0, true)] {
            let sky = wcs.pixelToSky(x: x, y: y)
            XCTAssertEqual(wcs.imageContains(ra: sky.ra, dec: sky.dec, width: 100, height: 120), inside, "pixel (\(x), \(y))")
        }
    }

    func testInvalidValuesNameTheKeyword() {
        func keyword(_ make: () throws -> WCS) -> String?? {
            do { _ = try make(); return .none } catch let e as WCSError { return .some(e.keyword) } catch { return .none }
        }
        XCTAssertEqual(keyword { try WCS(crval1: 0, crval2: 90, crpix1: 1, crpix2: 1, cd11: 1e-4, cd12: 0, cd21: 0, cd22: 1e-4) }, .some("CRVAL2"))
        XCTAssertEqual(keyword { try WCS(crval1: 0, crval2: 0, crpix1: 1, crpix2: 1, cd11: 1e-4, cd12: 1e-4, cd21: 1e-4, cd22: 1e-4) }, .some("CD1_1"))
        XCTAssertEqual(keyword { try WCS(crval1: .nan, crval2: 0, crpix1: 1, crpix2: 1, cd11: 1e-4, cd12: 0, cd21: 0, cd22: 1e-4) }, .some(nil))
        assertThrows(WCSError.self) { try WCS(crval1: 0, crval2: -90, crpix1: 1, crpix2: 1, cd11: 1e-4, cd12: 0, cd21: 0, cd22: 1e-4) }
    }
}
