import Astrometry
import Foundation
import XCTest
import TesseraSupport
@testable import Inference
import SceneModel
@testable import SceneFitting

/// One isolated galaxy rendered with noise on a small patch (two exposures, two bands, a
/// three-component Sérsic table to keep debug builds quick): the optimiser lands within a few
/// Laplace σ of the truth, and NUTS seeded with that covariance samples around it.
final class PatchFitterTests: XCTestCase {
    static func makePosterior(seed: UInt64, logUniformRHalf: Bool = true) throws -> (PatchPosterior, truth: [Double], start: [Double]) {
        var rng = RandomSource(seed: seed)
        let mixture = try SersicMixture(radii: [0.3, 1.0, 2.5], nodes: [0.5, 3, 7], amplitudes: [[0.2, 0.6, 0.2], [0.4, 0.4, 0.2], [0.5, 0.3, 0.2]])
        let truth = PatchSource(xi: 0.05, eta: -0.03, flux: [200, 150], q: 0.6, pa: 0.4, sersic: 2, rhalf: 0.3, isPoint: false)
        let n = 24
        var exposures: [PatchExposure] = []
        for e in 0..<2 {
            let a = LocalAstrometry(x0: 12, y0: 12, xi0: 0, eta0: 0, dxdXi: -10, dxdEta: 0.5 * Double(e), dydXi: 0, dydEta: 10)
            let x = (0..<(n * n)).map { Double($0 % n) }, y = (0..<(n * n)).map { Double($0 / n) }
            let blank = PatchExposure(name: "e\(e)", band: e, x: x, y: y, data: .init(repeating: 0, count: n * n),
                                      inverseError: .init(repeating: 1, count: n * n), psf: .gaussian(sigma: 1.2), calibration: 1, astrometry: [a])
            let kernel = try SceneKernel(patch: Patch(bands: ["A", "B"], plane: TangentPlane(ra0: 10, dec0: 10), exposures: [blank]),
                                         sersic: mixture, isPoint: [false])
            let model = kernel.modelImages(kernel.parameters(of: [truth]))[0]
            var exposure = blank
            exposure.data = model.map { $0 + rng.normal() }
            exposures.append(exposure)
        }
        let kernel = try SceneKernel(patch: Patch(bands: ["A", "B"], plane: TangentPlane(ra0: 10, dec0: 10), exposures: exposures),
                                     sersic: mixture, isPoint: [false])
        var start = truth
        start.flux = [170, 180]; start.xi += 0.08; start.rhalf = 0.4; start.sersic = 3; start.q = 0.8
        var bounds = ParameterBounds()
        bounds.rhalfLogUniform = logUniformRHalf
        let posterior = try PatchPosterior(kernel: kernel, anchors: [(0.1, 0)], bounds: bounds)
        return (posterior, kernel.parameters(of: [truth]), kernel.parameters(of: [start]))
    }

    func testOptimiseThenSampleRecoversAnIsolatedGalaxy() throws {
        let (posterior, truth, start) = try Self.makePosterior(seed: 3)
        var settings = FitSettings()
        settings.mode = .optimize
        let opt = try PatchFitter.fit(posterior: posterior, start: start, covariances: [nil], settings: settings, seed: 1, stream: 0)
        XCTAssertEqual(opt.optimizerConverged, true)
        XCTAssertTrue(opt.covariances.count == 1 && opt.covariances[0].count == 64)
        // Fluxes and position are within 4σ of the truth (σ from the Laplace covariance, which for
        // identity-transformed fluxes is directly the flux variance).
        for i in 0..<2 {
            let sd = opt.covariances[0][i * 8 + i].squareRoot()
            XCTAssertLessThan(abs(opt.final[i] - truth[i]), 4 * sd, "flux \(i): \(opt.final[i]) vs \(truth[i]) ± \(sd)")
        }
        XCTAssertTrue(abs(opt.final[2] - truth[2]) < 0.05 && abs(opt.final[3] - truth[3]) < 0.05)

        settings.mode = .sample
        settings.warmup = 60
        settings.draws = 60
        settings.maxTreeDepth = 5
        let sample = try PatchFitter.fit(posterior: posterior, start: opt.final, covariances: opt.covariances,
                                         settings: settings, seed: 2, stream: 0)
        XCTAssertTrue(sample.chain.count == 60 && sample.stats?.treeDepth.count == 60)
        let fluxes = sample.chain.map { $0[0] }
        let mean = fluxes.reduce(0, +) / 60
        let sd = (fluxes.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 59).squareRoot()
        XCTAssertLessThan(abs(mean - truth[0]), 4 * sd + 1, "sampled flux \(mean) ± \(sd) vs \(truth[0])")
        XCTAssertTrue(sample.chain.allSatisfy { $0[4] >= 0.2 && $0[4] <= 1 && $0[7] >= 0.03 && $0[7] <= 1.5 }, "draws stay inside the bounds")
    }

    /// `min_ess`: a deliberately slow chain (tree depth 2, no metric adaptation) is extended and
    /// thinned until every kept column has ESS ≥ the target and split R̂ ≤ 1.05, still with
    /// `draws` rows; the same chain without the target falls short (so the test can fail).
    func testChainIsExtendedAndThinnedUntilItsESSTargetIsMet() throws {
        let (posterior, _, start) = try Self.makePosterior(seed: 3)
        var settings = FitSettings()
        settings.mode = .optimize
        let opt = try PatchFitter.fit(posterior: posterior, start: start, covariances: [nil], settings: settings, seed: 1, stream: 0)
        settings.mode = .sample
        settings.warmup = 40
        settings.draws = 80
        settings.maxTreeDepth = 2
        settings.adaptMetric = false
        func minESS(_ chain: [[Double]]) -> Double {
            (0..<chain[0].count).map { j in Diagnostics.effectiveSampleSize([chain.map { $0[j] }]) }.min()!
        }
        let plain = try PatchFitter.fit(posterior: posterior, start: opt.final, covariances: opt.covariances,
                                        settings: settings, seed: 2, stream: 0)
        XCTAssertEqual(plain.stats?.thinning, 1)
        XCTAssertLessThan(minESS(plain.chain), 25, "the slow chain must need extending for this test to mean anything")

        settings.minESS = 40
        settings.maxThinning = 16
        let extended = try PatchFitter.fit(posterior: posterior, start: opt.final, covariances: opt.covariances,
                                           settings: settings, seed: 2, stream: 0)
        let stats = try XCTUnwrap(extended.stats)
        XCTAssertEqual(extended.chain.count, 80, "the kept chain keeps draws rows")
        XCTAssertEqual(stats.acceptStat.count, 80)
        XCTAssertGreaterThan(stats.thinning, 1)
        XCTAssertTrue(stats.metESSTarget)
        XCTAssertGreaterThanOrEqual(minESS(extended.chain), 40)
        for j in 0..<extended.chain[0].count {
            XCTAssertLessThanOrEqual(Diagnostics.splitRHat([extended.chain.map { $0[j] }]), 1.05, "column \(j)")
        }
        // Each kept row stands for `thinning` transitions of at least one leapfrog step each.
        XCTAssertTrue(stats.nLeapfrog.allSatisfy { $0 >= stats.thinning })
        // Its first rows continue the unextended chain's stream: the first kept row is the plain chain's row `thinning` − 1.
        XCTAssertEqual(extended.chain[0], plain.chain[stats.thinning - 1])

        // A cap too low to reach the target says so.
        settings.minESS = 79
        settings.maxThinning = 2
        let capped = try PatchFitter.fit(posterior: posterior, start: opt.final, covariances: opt.covariances,
                                         settings: settings, seed: 2, stream: 0)
        XCTAssertEqual(capped.stats?.thinning, 2)
        XCTAssertEqual(capped.stats?.metESSTarget, false)
    }

    func testThinningKeepsEveryKthRowAndSumsItsTransitions() {
        XCTAssertEqual(PatchFitter.thinned(Array(1...10), by: 3), [3, 6, 9])
        XCTAssertEqual(PatchFitter.thinned(Array(1...4), by: 1), [1, 2, 3, 4])
        let stats = (0..<6).map { i in
            DrawStats(acceptStat: 0.8, treeDepth: 2, nLeapfrog: i + 1, divergent: i == 1, energy: Double(i), stepSize: 0.1, logDensity: -Double(i))
        }
        let kept = PatchFitter.thinnedStats(stats, by: 3)
        XCTAssertEqual(kept.map(\.nLeapfrog), [1 + 2 + 3, 4 + 5 + 6])
        XCTAssertEqual(kept.map(\.divergent), [true, false], "a dropped divergent transition marks its kept row")
        XCTAssertEqual(kept.map(\.energy), [2, 5])
    }
}
