import Astrometry
import Foundation
import XCTest
import TesseraSupport
import SceneModel
@testable import SceneFitting

final class MockSceneTests: XCTestCase {
    let mock = MockScene(bands: ["A", "B"], imageSize: 32, pixelScale: 0.1, centerRA: 53.1, centerDec: -27.8,
                         psfSigma: [1.0, 1.3], dither: 0.3, rotation: 0.05, skySigma: 1.5, gain: 0, calibration: 2,
                         fluxRange: 40...300, rhalfRange: 0.08...0.3, sersicRange: 1...4, qRange: 0.4...0.95,
                         pointFraction: 0.3, minSeparation: 0.35, margin: 0.5, perturbation: 0.1)

    func testRandomSourcesAreSeparatedInsideTheFieldAndReproducible() {
        var rng = RandomSource(seed: 5), again = RandomSource(seed: 5)
        let sources = mock.randomSources(count: 8, rng: &rng)
        XCTAssertEqual(sources, mock.randomSources(count: 8, rng: &again))
        XCTAssertEqual(sources.map(\.id), Array(1...8))
        let half = 32 * 0.1 / 2 - 0.5 - 0.3
        let offsets = sources.map { mock.plane.offsets(ra: $0.ra, dec: $0.dec) }
        for (i, o) in offsets.enumerated() {
            XCTAssertTrue(abs(o.xi) <= half + 1e-9 && abs(o.eta) <= half + 1e-9)
            for p in offsets[..<i] { XCTAssertGreaterThanOrEqual(hypot(o.xi - p.xi, o.eta - p.eta), 0.35) }
            let s = sources[i]
            XCTAssertTrue(mock.fluxRange.contains(s.flux[0]) && mock.qRange.contains(s.q) && mock.rhalfRange.contains(s.rhalf))
        }
    }

    /// Science = model + noise of σ = sky (no Poisson term with gain 0); the WCS is dithered and
    /// rotated about the field centre.
    func testExposureIsTheModelPlusNoise() throws {
        let sersic = try SersicMixture(radii: [0.5, 1.5], nodes: [0.5, 6], amplitudes: [[0.5, 0.5], [0.5, 0.5]])
        var rng = RandomSource(seed: 2)
        let sources = mock.randomSources(count: 3, rng: &rng)
        let e = try mock.exposure(band: 1, sources: sources, sersic: sersic, rng: &rng)
        XCTAssertTrue(e.science.count == 32 * 32 && e.uncertainty.allSatisfy { $0 == 1.5 })
        XCTAssertTrue(e.wcs.crval1 == 53.1 && abs(e.wcs.pixelScale - 0.1) < 1e-9)
        XCTAssertTrue(abs(e.wcs.crpix1 - 16.5) <= 0.3 / 0.1 && abs(e.wcs.crpix2 - 16.5) <= 0.3 / 0.1)
        let model = try ExposureRenderer.render(sources, bands: mock.bands, band: 1, wcs: e.wcs, width: 32, height: 32,
                                                psf: mock.psf(band: 1), calibration: 2, sersic: sersic)
        let noise = zip(e.science, model).map { $0 - $1 }
        let variance = noise.map { $0 * $0 }.reduce(0, +) / Double(noise.count)
        XCTAssertLessThan(abs(variance.squareRoot() - 1.5), 0.1, "noise σ \(variance.squareRoot())")
    }

    func testPerturbedSourcesStayNearAndInBounds() {
        var rng = RandomSource(seed: 9)
        let s = Source(id: 3, ra: 53.1, dec: -27.8, flux: [100, 120], q: 0.94, pa: 0.3, sersic: 5.4, rhalf: 0.2, isPoint: false)
        for _ in 0..<50 {
            let p = mock.perturbed(s, rng: &rng)
            let o = mock.plane.offsets(ra: p.ra, dec: p.dec)
            XCTAssertTrue(hypot(o.xi, o.eta) < 0.5 && p.id == 3 && p.pa == s.pa)
            XCTAssertTrue(p.q <= 0.95 && p.q >= 0.25 && p.sersic <= 5.5 && p.sersic >= 0.9)
        }
    }
}
