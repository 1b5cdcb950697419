import Astrometry
import Foundation
import XCTest

final class LocalAstrometryTests: XCTestCase {
    func testTangentPlaneRoundTrips() {
        for plane in [TangentPlane(ra0: 0.001, dec0: 0), TangentPlane(ra0: 359.99, dec0: -45), TangentPlane(ra0: 150, dec0: 85)] {
            for (xi, eta) in [(0.0, 0.0), (-3600.0, 1800.0), (0.37, -0.21), (7200.0, 7200.0)] {
                let sky = plane.sky(xi: xi, eta: eta)
                XCTAssertTrue(sky.ra >= 0 && sky.ra < 360)
                let back = plane.offsets(ra: sky.ra, dec: sky.dec)
                XCTAssertTrue(abs(back.xi - xi) < 1e-8 && abs(back.eta - eta) < 1e-8, "\(plane) (\(xi), \(eta)) → \(back)")
            }
        }
        let o = TangentPlane(ra0: 10, dec0: 0).offsets(ra: 10, dec: 1.0 / 3600)
        XCTAssertTrue(abs(o.xi) < 1e-12 && abs(o.eta - 1) < 1e-9)  // north is +η, in arcsec
    }

    /// The full map from a patch's tangent-plane offsets to exposure pixels,
    /// (ξ, η) → plane.sky → wcs.skyToPixel, against `WCS.local`'s affine map.
    func testLocalJacobianMatchesFiniteDifferencesOfTheFullProjection() throws {
        let step = 0.05  // arcsec
        for (name, wcs) in sampleWCSs {
            for p in samplePixels {
                let sky = wcs.pixelToSky(x: p.x, y: p.y)
                // A plane centred on the point itself: J is the exact derivative there.
                let plane = TangentPlane(ra0: sky.ra, dec0: sky.dec)
                let local = wcs.local(ra: sky.ra, dec: sky.dec, plane: plane)
                func full(_ xi: Double, _ eta: Double) -> (x: Double, y: Double) {
                    let s = plane.sky(xi: xi, eta: eta)
                    return wcs.skyToPixel(ra: s.ra, dec: s.dec)
                }
                let e = full(step, 0), w = full(-step, 0), n = full(0, step), s = full(0, -step)
                let numeric = [(e.x - w.x) / (2 * step), (n.x - s.x) / (2 * step), (e.y - w.y) / (2 * step), (n.y - s.y) / (2 * step)]
                let analytic = [local.dxdXi, local.dxdEta, local.dydXi, local.dydEta]
                let scale = analytic.map(abs).max()!
                for k in 0..<4 { XCTAssertLessThan(abs(analytic[k] - numeric[k]), 1e-7 * scale, "\(name) at \(p) element \(k)") }
                XCTAssertTrue(abs(local.x0 - p.x) < 1e-8 && abs(local.y0 - p.y) < 1e-8)
                XCTAssertTrue(abs(local.xi0) < 1e-9 && abs(local.eta0) < 1e-9)
            }
        }
    }

    /// A source moving by ±0.5″ about its linearisation point: the affine map matches the full
    /// projection to ~1e-9 pixel when the source is at the plane's reference point. Away from it,
    /// J (taken in local east/north directions) is rotated against the plane's axes by the
    /// meridian convergence, θ·tan(Dec) for a source θ from the reference, so the error grows to
    /// ≈ (0.5″ / pixel scale)·θ·|tan Dec|: 6e-4 pixel at Dec −28° and θ = 1′ for 0.1″ pixels.
    func testAffineMapWithinAPatch() throws {
        for (name, wcs) in sampleWCSs {
            let centre = wcs.pixelToSky(x: 500, y: 500)
            let plane = TangentPlane(ra0: centre.ra, dec0: centre.dec)
            for (sxi, seta) in [(0.0, 0.0), (5.0, -4.0), (45.0, -40.0)] {
                let source = plane.sky(xi: sxi, eta: seta)
                let local = wcs.local(ra: source.ra, dec: source.dec, plane: plane)
                let theta = hypot(sxi, seta) / (180 / Double.pi * 3600)
                let bound = 1e-8 + 1.5 * (0.5 / wcs.pixelScale) * theta * (abs(tan(centre.dec * .pi / 180)) + 0.05)
                for (dxi, deta) in [(0.5, 0.0), (0.0, -0.5), (0.35, 0.35), (-0.5, 0.2)] {
                    let s = plane.sky(xi: local.xi0 + dxi, eta: local.eta0 + deta)
                    let exact = wcs.skyToPixel(ra: s.ra, dec: s.dec)
                    let affine = local.pixel(xi: local.xi0 + dxi, eta: local.eta0 + deta)
                    XCTAssertTrue(abs(exact.x - affine.x) < bound && abs(exact.y - affine.y) < bound,
                                  "\(name), source at (\(sxi), \(seta))″: \(exact) vs \(affine), bound \(bound)")
                }
            }
        }
    }

    func testLocalAtAPixelAndItsInverse() throws {
        let (_, wcs) = sampleWCSs[0]
        let plane = TangentPlane(ra0: 150.1, dec0: 2.2)
        let local = wcs.local(x: 300.5, y: 700.25, plane: plane)
        XCTAssertTrue(abs(local.x0 - 300.5) < 1e-8 && abs(local.y0 - 700.25) < 1e-8)
        // worldJacobian (arcsec per pixel) is the inverse of J (pixels per arcsec).
        let w = local.worldJacobian
        XCTAssertLessThan(abs(local.dxdXi * w.dxiDx + local.dxdEta * w.detaDx - 1), 1e-12)
        XCTAssertLessThan(abs(local.dxdXi * w.dxiDy + local.dxdEta * w.detaDy), 1e-12)
        XCTAssertLessThan(abs(local.dydXi * w.dxiDx + local.dydEta * w.detaDx), 1e-12)
        XCTAssertLessThan(abs(local.dydXi * w.dxiDy + local.dydEta * w.detaDy - 1), 1e-12)
        // About 0.1 arcsec per pixel for this WCS.
        XCTAssertLessThan(abs((w.dxiDx * w.detaDy - w.dxiDy * w.detaDx).magnitude.squareRoot() - wcs.pixelScale), 1e-3 * wcs.pixelScale)
        for (x, y) in [(300.5, 700.25), (310.0, 690.0), (290.75, 705.5)] {
            let o = local.offsets(x: x, y: y)
            let back = local.pixel(xi: o.xi, eta: o.eta)
            XCTAssertTrue(abs(back.x - x) < 1e-9 && abs(back.y - y) < 1e-9)
        }
    }
}
