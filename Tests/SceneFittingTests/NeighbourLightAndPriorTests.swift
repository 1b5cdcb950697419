import Astrometry
import Foundation
import Inference
import SceneModel
import XCTest
@testable import SceneFitting

/// Issue 16's flux-bias fixes: every source whose light reaches a region's fitted pixels is in
/// its model (fixed), whatever `fixedRadius`; and the log-uniform r_half prior enters the patch
/// posterior with its exact gradient.
final class NeighbourLightAndPriorTests: XCTestCase {
    let plane = TangentPlane(ra0: 53, dec0: -27)

    func source(_ id: Int64, xi: Double, rhalf: Double, isPoint: Bool = false) -> Source {
        let s = plane.sky(xi: xi, eta: 0)
        return Source(id: id, ra: s.ra, dec: s.dec, flux: [1], sersic: 4, rhalf: rhalf, isPoint: isPoint)
    }

    func testSourcesWhoseLightReachesTheROIAreFixed() throws {
        // Seed at 0; a compact source at 2.0″ (reach 8·0.05 + 0.5 = 0.9″ < 2.0 − roi 1.0), an
        // extended one at 2.5″ (reach 8·0.3 + 0.5 = 2.9″ > 1.5), a point source at 1.6″ (0.5 < 0.6).
        let moved = [source(1, xi: 0, rhalf: 0.1), source(2, xi: 2.0, rhalf: 0.05), source(3, xi: -2.5, rhalf: 0.3),
                     source(4, xi: 1.6, rhalf: 0.1, isPoint: true)]
        let reach = moved.map { SuperScene.lightReach(of: $0) }
        for (r, expected) in zip(reach, [1.3, 0.9, 2.9, 0.5]) { XCTAssertEqual(r, expected, accuracy: 1e-12) }
        var byLight = try SuperScene(sources: moved, targetIterations: 1, activeRadius: 0.1, fixedRadius: 1.5,
                                     roi: Array(repeating: 1.0, count: 4), reach: reach)
        let r = try XCTUnwrap(byLight.checkout())
        XCTAssertEqual(r.active, [0])
        XCTAssertEqual(r.fixed, [2], "only the extended source's light reaches the seed's 1″ region")
        // Without the reach, fixed_radius alone leaves it out (the old rule, which biased fluxes high).
        var byRadius = try SuperScene(sources: moved, targetIterations: 1, activeRadius: 0.1, fixedRadius: 1.5)
        XCTAssertEqual(try XCTUnwrap(byRadius.checkout()).fixed, [])
        XCTAssertThrowsError(try SuperScene(sources: moved, targetIterations: 1, activeRadius: 0.1, fixedRadius: 1.5,
                                            roi: [1], reach: reach))
    }

    func testLogUniformRHalfPriorValueAndGradient() throws {
        let (flat, _, start) = try PatchFitterTests.makePosterior(seed: 5, logUniformRHalf: false)
        let (logU, _, _) = try PatchFitterTests.makePosterior(seed: 5, logUniformRHalf: true)
        let i = flat.kernel.layout.index(ofSource: 0, .rhalf)!
        let y = logU.unconstrain(logU.clampedInside(start))
        let a = try flat.logDensityAndGradient(y), b = try logU.logDensityAndGradient(y)
        let x = logU.constrain(y)
        XCTAssertEqual(b.value - a.value, -log(x[i]), accuracy: 1e-9)
        // The gradient in the unconstrained space against central differences.
        for j in 0..<y.count {
            var yp = y, ym = y
            yp[j] += 1e-5; ym[j] -= 1e-5
            let fd = (try logU.logDensityAndGradient(yp).value - logU.logDensityAndGradient(ym).value) / 2e-5
            XCTAssertEqual(b.gradient[j], fd, accuracy: 1e-4 * max(1, abs(fd)), "parameter \(j)")
        }
        XCTAssertEqual(b.gradient[i] - a.gradient[i], -logU.density.transforms[i].derivative(y[i]) / x[i], accuracy: 1e-9)
    }
}
