import Astrometry
import TesseraSupport
import XCTest
@testable import SceneModel

/// The kernel's noise-sized footprints (`SceneKernel.footprintTolerance`): the model error they
/// cause stays within the stated budget ‖w·δ‖₂ ≤ τ, the budget is not vacuous (a footprint sized
/// for a 100× larger τ breaks it), they evaluate fewer pairs than the exact cut, and the gradient
/// is still the exact gradient of the (footprint) model.
final class FootprintTests: XCTestCase {
    /// ‖w·(a − b)‖₂ over every pixel of every exposure (patch order).
    static func whitenedDifference(_ a: [[Double]], _ b: [[Double]], _ patch: Patch) -> Double {
        var t = 0.0
        for e in a.indices {
            for i in a[e].indices {
                let d = (a[e][i] - b[e][i]) * patch.exposures[e].inverseError[i]
                t += d * d
            }
        }
        return t.squareRoot()
    }

    /// A blended patch like `testCullingAgreesAndSkips` (three sources, discs of 10 px; the
    /// 6-component test table, to stay fast in debug builds): model error within τ for τ = 0.01
    /// and 0.1, fewer pairs than the exact cut.
    func testFootprintErrorWithinBudgetOnBlend() throws {
        let (patch, sersic, truth, isPoint) = try Self.blend(seed: 31)
        var full = try SceneKernel(patch: patch, sersic: sersic, isPoint: isPoint)
        full.culling = false
        var cut = full
        cut.culling = true
        cut.footprintTolerance = 0
        let theta = full.parameters(of: truth)
        let reference = full.modelImages(theta)
        let cutPairs = try cut.evaluate(theta).gaussianPixelEvaluations
        for tau in [0.01, 0.1] {
            var fp = cut
            fp.footprintTolerance = tau
            let err = Self.whitenedDifference(fp.modelImages(theta), reference, patch)
            XCTAssertLessThanOrEqual(err, tau, "τ = \(tau): whitened model error \(err)")
            XCTAssertGreaterThan(err, 0, "τ = \(tau): nothing was cut")
            let pairs = try fp.evaluate(theta).gaussianPixelEvaluations
            XCTAssertLessThan(Double(pairs), 0.8 * Double(cutPairs), "τ = \(tau): \(pairs) pairs vs \(cutPairs) with the exact cut")
            // ln L moves by at most τ‖w r‖ + τ²/2 (r the residual).
            let rf = try full.evaluate(theta), rp = try fp.evaluate(theta)
            XCTAssertLessThanOrEqual(abs(rp.logLikelihood - rf.logLikelihood), tau * rf.chi2.squareRoot() + tau * tau / 2)
        }
    }

    /// One Gaussian (a point source, one PSF component) on a full grid, where the triangle
    /// inequality of the budget is tight: the error is within τ, and a footprint sized for 100τ
    /// (E_g smaller by ln 100, too small for τ) exceeds τ, so the bound would catch it. (The 4×4
    /// sub-blocks the kernel culls keep some pixels beyond E_g, so the error is a few times below
    /// the bound; a factor 100 is far outside that slack.)
    func testBudgetIsTightForOneGaussian() throws {
        let psf = PSFMixture(components: [GaussianComponent(amplitude: 1, cxx: 4, cxy: 0.5, cyy: 3)])
        for (flux, inverseError) in [(2000.0, 1.0), (300.0, 0.5)] {
            let spec = KernelFixture.ExposureSpec(band: 0, width: 48, height: 48,
                                                  astrometry: KernelFixture.astrometry(x0: 23.3, y0: 24.1, scale: 0.1, rotation: 0.2),
                                                  psf: psf, calibration: 1, inverseError: inverseError)
            let patch = Patch(bands: ["g"], plane: TangentPlane(ra0: 150, dec0: 2),
                              exposures: [KernelFixture.exposure(spec, name: "one", sourceCount: 1)])
            var full = try SceneKernel(patch: patch, sersic: try KernelFixture.sersic(), isPoint: [true])
            full.culling = false
            let theta = full.parameters(of: [PatchSource(xi: 0.01, eta: -0.02, flux: [flux], isPoint: true)])
            let reference = full.modelImages(theta)
            var fp = full
            fp.culling = true
            let tau = 0.01
            fp.footprintTolerance = tau
            let err = Self.whitenedDifference(fp.modelImages(theta), reference, patch)
            XCTAssertLessThanOrEqual(err, tau, "flux \(flux): error \(err) above τ")
            XCTAssertGreaterThan(err, tau / 100, "flux \(flux): error \(err) far below τ: footprints needlessly large")
            fp.footprintTolerance = 100 * tau
            let errSmall = Self.whitenedDifference(fp.modelImages(theta), reference, patch)
            XCTAssertGreaterThan(errSmall, tau, "flux \(flux): a footprint 100× too small still met τ (\(errSmall)): the bound is vacuous")
        }
    }

    /// The gradient with footprints on is the exact gradient of the footprint model: central
    /// finite differences of its ln L, at steps too small to move a footprint boundary.
    func testGradientMatchesFiniteDifferencesWithFootprints() throws {
        let sersic = try KernelFixture.sersic()
        var rng = RandomSource(seed: 7)
        let isPoint = [false, true]
        let truth = KernelFixture.randomSources(&rng, isPoint: isPoint)
        let base = KernelFixture.patch(KernelFixture.specs(size: 16), sourceCount: isPoint.count)
        var k0 = try SceneKernel(patch: base, sersic: sersic, isPoint: isPoint)
        k0.culling = false
        let patch = KernelFixture.withData(base, models: k0.modelImages(k0.parameters(of: truth)), rng: &rng)
        var kernel = try SceneKernel(patch: patch, sersic: sersic, isPoint: isPoint)
        kernel.footprintTolerance = 0.1
        var theta = kernel.parameters(of: truth)
        for i in theta.indices { theta[i] *= 1 + 0.05 * (rng.uniform() - 0.5) }
        let r = try kernel.evaluate(theta)
        var full = kernel
        full.culling = false
        XCTAssertLessThan(r.gaussianPixelEvaluations, try full.evaluate(theta).gaussianPixelEvaluations)
        for i in theta.indices {
            let h = 1e-6 * max(abs(theta[i]), 1e-2)
            var p = theta, m = theta
            p[i] += h; m[i] -= h
            let fd = (try kernel.evaluate(p).logLikelihood - kernel.evaluate(m).logLikelihood) / (2 * h)
            XCTAssertEqual(r.gradient[i], fd, accuracy: 1e-5 * max(abs(fd), 1) , "parameter \(i)")
        }
    }

    /// Three blended sources on discs of 10 px of two exposures (the 6-component test table), with noisy data
    /// rendered from the un-culled model: the patch, the table, the truth and which sources are points.
    static func blend(seed: UInt64) throws -> (patch: Patch, sersic: SersicMixture, truth: [PatchSource], isPoint: [Bool]) {
        let sersic = try KernelFixture.sersic()
        let truth = KernelFixture.blend(fluxes: [[120, 90], [60, 80], [80, 50]])
        let isPoint = truth.map(\.isPoint)
        let base = KernelFixture.discPatch(Array(KernelFixture.specs().prefix(2)), sources: truth, radius: 10)
        var rng = RandomSource(seed: seed)
        var exact = try SceneKernel(patch: base, sersic: sersic, isPoint: isPoint)
        exact.culling = false
        return (KernelFixture.withData(base, models: exact.modelImages(exact.parameters(of: truth)), rng: &rng), sersic, truth, isPoint)
    }

    /// Footprints with the single-precision loop (`tessera sample`'s default pair, `sample_footprint_tolerance` 0.01 with
    /// `sample_precision` single): they evaluate the same pairs as footprints in double (the decisions use the double
    /// parameters), fewer than the exact cut, and ln L stays within the sum of the two budgets of the exact double
    /// kernel: τ‖w r‖ + τ²/2 (footprints) + 0.05 (single precision, `SceneKernel.Precision`).
    func testFootprintsWithSinglePrecision() throws {
        let (patch, sersic, truth, isPoint) = try Self.blend(seed: 33)
        var rng = RandomSource(seed: 34)
        var exact = try SceneKernel(patch: patch, sersic: sersic, isPoint: isPoint)
        exact.footprintTolerance = 0
        let tau = 0.01
        var doubleFootprints = exact
        doubleFootprints.footprintTolerance = tau
        var singleFootprints = doubleFootprints
        singleFootprints.precision = .single
        var theta = exact.parameters(of: truth)
        for i in theta.indices { theta[i] *= 1 + 0.01 * (rng.uniform() - 0.5) }
        let re = try exact.evaluate(theta), rd = try doubleFootprints.evaluate(theta), rs = try singleFootprints.evaluate(theta)
        XCTAssertEqual(rs.gaussianPixelEvaluations, rd.gaussianPixelEvaluations)
        XCTAssertLessThan(Double(rs.gaussianPixelEvaluations), 0.8 * Double(re.gaussianPixelEvaluations))
        XCTAssertNotEqual(rs.chi2, rd.chi2, "the single-precision loop did not run")
        XCTAssertLessThanOrEqual(abs(rs.logLikelihood - re.logLikelihood), tau * re.chi2.squareRoot() + tau * tau / 2 + 0.05)
        let norm = re.gradient.map { $0 * $0 }.reduce(0, +).squareRoot()
        for i in theta.indices {
            XCTAssertEqual(rs.gradient[i], re.gradient[i], accuracy: 1e-2 * max(abs(re.gradient[i]), 1e-3 * norm), "parameter \(i)")
        }
    }
}
