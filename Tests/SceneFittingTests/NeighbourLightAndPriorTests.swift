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

    /// `roi_rhalf_multiple`: a large galaxy's fitted pixels grow with its current r_half (capped
    /// at `roiMax`), and sources whose light reaches the larger region are fixed in it.
    func testRegionOfInterestFollowsTheGalaxysSize() throws {
        // Seed (r_half 0.6″) at 0; a compact source at 2.0″ (reach 0.9″): outside roi 1″ + 0.9″,
        // inside 3 × 0.6 = 1.8″ + 0.9″.
        let sources = [source(1, xi: 0, rhalf: 0.6), source(2, xi: 2.0, rhalf: 0.05), source(3, xi: -3, rhalf: 0.05, isPoint: true)]
        let reach = sources.map { SuperScene.lightReach(of: $0) }
        var fixedROI = try SuperScene(sources: sources, targetIterations: 1, activeRadius: 0.1, fixedRadius: 0.5,
                                      roi: Array(repeating: 1.0, count: 3), reach: reach)
        XCTAssertEqual(fixedROI.regionROI(0), 1.0)
        XCTAssertEqual(try XCTUnwrap(fixedROI.checkout()).fixed, [])
        var grown = try SuperScene(sources: sources, targetIterations: 1, activeRadius: 0.1, fixedRadius: 0.5,
                                   roi: Array(repeating: 1.0, count: 3), reach: reach)
        grown.roiRHalfMultiple = 3
        XCTAssertEqual(grown.regionROI(0), 1.8, accuracy: 1e-12)
        XCTAssertEqual(grown.regionROI(1), 1.0, "never below roi")
        XCTAssertEqual(grown.regionROI(2), 1.0, "a point source keeps roi")
        XCTAssertEqual(try XCTUnwrap(grown.checkout()).fixed, [1], "the compact source's light reaches the grown region")
        grown.roiMax = 1.2
        XCTAssertEqual(grown.regionROI(0), 1.2, "capped at roi_max")
    }

    /// `NoiseLightReach`: for a point source behind one Gaussian PSF the reach is the closed-form
    /// radius where F·A·N(r; v)/σ = ε; a round galaxy's profile integrates to its flux; the reach
    /// grows with flux, is 0 below the threshold and never exceeds the cap.
    func testNoiseLightReach() throws {
        let sersic = try SersicMixture(radii: [0.3, 1.0, 2.5], nodes: [0.5, 3, 7], amplitudes: [[0.2, 0.6, 0.2], [0.4, 0.4, 0.2], [0.5, 0.3, 0.2]])
        let v = 0.0016, area = 0.0009, noise = 0.5, eps = 0.01
        let model = NoiseLightReach(bands: [.init(noise: noise, pixelArea: area, psf: [(amplitude: 1, variance: v)])], threshold: eps, sersic: sersic)
        let star = Source(id: 1, ra: 0, dec: 0, flux: [150], isPoint: true)
        let exact = (2 * v * log(150 * area / (2 * Double.pi * v * noise * eps))).squareRoot()
        XCTAssertEqual(model.reach(of: star, cap: 10), exact, accuracy: 1e-9)
        XCTAssertEqual(model.reach(of: star, cap: 0.05), 0.05, "capped")
        XCTAssertEqual(model.reach(of: Source(id: 2, ra: 0, dec: 0, flux: [1e-3], isPoint: true), cap: 10), 0, "below the threshold everywhere")
        XCTAssertEqual(model.reach(of: Source(id: 3, ra: 0, dec: 0, flux: [-150], isPoint: true), cap: 10), exact, accuracy: 1e-9,
                       "a negative flux's light is as far-reaching")
        // A round galaxy: ∫ 2π r Σ(r) dr = F (pixel area and noise 1 make the significance Σ itself).
        let unit = NoiseLightReach(bands: [.init(noise: 1, pixelArea: 1, psf: [(amplitude: 0.7, variance: v), (amplitude: 0.3, variance: 9 * v)])],
                                   threshold: eps, sersic: sersic)
        let galaxy = Source(id: 4, ra: 0, dec: 0, flux: [200], q: 1, sersic: 2, rhalf: 0.3)
        var integral = 0.0
        let dr = 1e-4
        for k in 0..<100_000 { let r = (Double(k) + 0.5) * dr; integral += 2 * Double.pi * r * unit.pixelSignificance(galaxy, band: 0, at: r) * dr }
        XCTAssertEqual(integral, 200, accuracy: 0.01)
        // Brighter reaches farther; at the reach the significance is the threshold.
        var bright = galaxy
        bright.flux = [2000]
        let rFaint = model.reach(of: galaxy, cap: 10), rBright = model.reach(of: bright, cap: 10)
        XCTAssertGreaterThan(rBright, rFaint)
        XCTAssertEqual(model.pixelSignificance(galaxy, band: 0, at: rFaint), eps, accuracy: 1e-9)
        XCTAssertLessThan(rFaint, SuperScene.lightReach(of: galaxy), "a faint galaxy reaches less far than the fixed 8 r_half + 0.5″")
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
