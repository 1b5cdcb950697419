import Astrometry
import Foundation
import XCTest
@testable import SceneModel

final class SceneBasicsTests: XCTestCase {
    func testTangentPlaneRoundTrip() {
        let plane = TangentPlane(ra0: 150.1, dec0: 2.2)
        for (xi, eta) in [(0.0, 0.0), (3.5, -2.0), (-100.0, 250.0)] {
            let s = plane.sky(xi: xi, eta: eta)
            let o = plane.offsets(ra: s.ra, dec: s.dec)
            XCTAssertTrue(abs(o.xi - xi) < 1e-9 && abs(o.eta - eta) < 1e-9)
        }
        // One arcsec north is 1/3600 degree of declination.
        XCTAssertLessThan(abs(plane.sky(xi: 0, eta: 1).dec - (2.2 + 1.0 / 3600)), 1e-12)
    }

    func testSplineInterpolatesAndDifferentiates() throws {
        let nodes = [1.0, 2, 3, 4, 5]
        let amps = nodes.map { [sin($0), $0 * $0] }
        let m = try SersicMixture(radii: [0.5, 1], nodes: nodes, amplitudes: amps)
        for (i, n) in nodes.enumerated() {
            let a = m.amplitudes(sersic: n).values
            XCTAssertTrue(abs(a[0] - amps[i][0]) < 1e-12 && abs(a[1] - amps[i][1]) < 1e-12)
        }
        for n in stride(from: 1.05, through: 4.95, by: 0.37) {
            let h = 1e-6
            let d = m.amplitudes(sersic: n).dn
            let fd0 = (m.amplitudes(sersic: n + h).values[0] - m.amplitudes(sersic: n - h).values[0]) / (2 * h)
            XCTAssertLessThan(abs(d[0] - fd0), 1e-7)
        }
    }

    func testLayoutIndices() {
        let l = ParameterLayout(bandCount: 2, isPoint: [false, true, false])
        XCTAssertEqual(l.count, 8 + 4 + 8)
        XCTAssertEqual(l.index(ofSource: 1, .xi), 10)
        XCTAssertNil(l.index(ofSource: 1, .q))
        XCTAssertEqual(l.index(ofSource: 2, .rhalf), 19)
    }
}
