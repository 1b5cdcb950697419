import Inference
import TesseraLinAlg
import TesseraSupport
import XCTest

final class NUTSTests: XCTestCase {
    let mu2 = [1.0, -2.0]
    // sd (1, 2), correlation 0.8
    let sigma2 = Matrix([[1.0, 1.6], [1.6, 4.0]])

    func testCorrelatedGaussianDenseMetricRecoversMeanAndCovariance() throws {
        let d = try GaussianDensity(mean: mu2, covariance: sigma2)
        let r = try NUTS().sample(d, initial: [0, 0], warmup: 500, draws: 1000, seed: 11, metric: .dense)
        XCTAssertEqual(r.draws.count, 1000)
        XCTAssertEqual(r.stats.count, 1000)
        XCTAssertEqual(r.warmupStats.count, 500)
        XCTAssertEqual(r.divergences, 0)
        assertMatchesGaussian(r, mean: mu2, covariance: sigma2)
        // The adapted dense inverse metric estimates the covariance (loosely: few hundred warm-up draws).
        for i in 0..<2 { for j in 0..<2 { XCTAssertEqual(r.inverseMetric[i, j], sigma2[i, j], accuracy: 0.5 * max(1, abs(sigma2[i, j]))) } }
        XCTAssertTrue(r.stats.allSatisfy { $0.stepSize == r.stepSize && $0.nLeapfrog >= 1 && $0.energy.isFinite })
    }

    func testCorrelated3DGaussianDiagonalMetricRecoversMeanAndCovariance() throws {
        let mu = [0.5, 0.0, -1.0]
        let sigma = Matrix([[1.0, 0.5, -0.3], [0.5, 2.0, 0.4], [-0.3, 0.4, 0.5]])
        let d = try GaussianDensity(mean: mu, covariance: sigma)
        let r = try NUTS().sample(d, initial: [3, 3, 3], warmup: 500, draws: 1000, seed: 5, metric: .diagonal)
        XCTAssertEqual(r.divergences, 0)
        assertMatchesGaussian(r, mean: mu, covariance: sigma)
        // Diagonal metric: off-diagonal elements are zero.
        XCTAssertEqual(r.inverseMetric[0, 1], 0)
    }

    func testTenDimensionalScalesDiagonalAdaptationRecoversVariances() throws {
        let scales = (0..<10).map { pow(10.0, -1 + 2 * Double($0) / 9) }  // 0.1 … 10
        let sigma = Matrix.diagonal(scales.map { $0 * $0 })
        let d = try GaussianDensity(mean: [Double](repeating: 0, count: 10), covariance: sigma)
        let r = try NUTS().sample(d, initial: [Double](repeating: 0.1, count: 10), warmup: 600, draws: 500, seed: 3)
        for i in 0..<10 {
            let c = r.chain(i)
            let ess = Diagnostics.splitEffectiveSampleSize([c])
            let v = covariance(c, c)
            XCTAssertEqual(v / sigma[i, i], 1, accuracy: 5 * (2 / ess).squareRoot(), "variance \(i)")
            // The adapted metric tracks the scales within a factor of 2.
            let ratio = r.inverseMetric[i, i] / sigma[i, i]
            XCTAssertTrue(ratio > 0.5 && ratio < 2, "metric \(i): \(ratio)")
        }
        // With a well-adapted metric the trajectories are short.
        XCTAssertLessThan(r.stats.map { Double($0.nLeapfrog) }.reduce(0, +) / 500, 16)
    }

    func testSameSeedGivesIdenticalDrawsDifferentSeedDiffers() throws {
        let d = try GaussianDensity(mean: mu2, covariance: sigma2)
        let a = try NUTS().sample(d, initial: [0, 0], warmup: 100, draws: 50, seed: 42, metric: .dense)
        let b = try NUTS().sample(d, initial: [0, 0], warmup: 100, draws: 50, seed: 42, metric: .dense)
        let c = try NUTS().sample(d, initial: [0, 0], warmup: 100, draws: 50, seed: 43, metric: .dense)
        XCTAssertEqual(a.draws, b.draws)
        XCTAssertEqual(a.stats, b.stats)
        XCTAssertEqual(a.stepSize, b.stepSize)
        XCTAssertNotEqual(a.draws, c.draws)
    }

    func testDualAveragingReachesTargetAcceptance() throws {
        let d = try GaussianDensity(mean: [0, 0, 0], covariance: Matrix.diagonal([1, 4, 0.25]))
        for target in [0.65, 0.9] {
            var nuts = NUTS()
            nuts.targetAcceptance = target
            let r = try nuts.sample(d, initial: [1, 1, 1], warmup: 400, draws: 400, seed: 9)
            // While dual averaging runs (the terminal fast window) the acceptance tracks the target …
            let terminal = r.warmupStats.suffix(50).map(\.acceptStat).reduce(0, +) / 50
            XCTAssertEqual(terminal, target, accuracy: 0.07, "target \(target)")
            // … and the final step size exp(x̄) is a little more conservative, as in Stan.
            XCTAssertGreaterThan(r.meanAcceptStat, target - 0.05, "target \(target)")
            XCTAssertLessThan(r.meanAcceptStat, min(1, target + 0.2), "target \(target)")
        }
        // Higher target → smaller step.
        var lo = NUTS(); lo.targetAcceptance = 0.6
        var hi = NUTS(); hi.targetAcceptance = 0.95
        let sLo = try lo.sample(d, initial: [1, 1, 1], warmup: 300, draws: 0, seed: 1).stepSize
        let sHi = try hi.sample(d, initial: [1, 1, 1], warmup: 300, draws: 0, seed: 1).stepSize
        XCTAssertLessThan(sHi, sLo)
    }

    func testDivergencesReportedOnFunnelWithLargeStep() throws {
        // Neal's funnel: v ~ N(0, 3²), xᵢ | v ~ N(0, e^v), i = 1, 2.
        let funnel = ClosureDensity(dimension: 3) { q in
            let v = q[0]
            var lp = -v * v / 18
            var g = [-v / 9, 0, 0]
            for i in 1..<3 {
                lp += -0.5 * q[i] * q[i] * exp(-v) - 0.5 * v
                g[0] += 0.5 * q[i] * q[i] * exp(-v) - 0.5
                g[i] = -q[i] * exp(-v)
            }
            return (lp, g)
        }
        var nuts = NUTS(maxTreeDepth: 6, initialStepSize: 1.5)
        nuts.adaptStepSize = false
        nuts.adaptMetric = false
        let r = try nuts.sample(funnel, initial: [-1, 0.1, -0.1], warmup: 0, draws: 200, seed: 2)
        XCTAssertGreaterThan(r.divergences, 0)
        XCTAssertTrue(r.stats.allSatisfy { $0.stepSize == 1.5 && $0.treeDepth <= 6 })
        // A divergent transition stops building its tree.
        XCTAssertTrue(r.stats.filter(\.divergent).allSatisfy { $0.nLeapfrog < 1 << 6 })
    }

    func testBoundedScaleSampledCorrectlyThroughTransform() throws {
        // σ ~ LogNormal(0.2, 0.5), sampled on y = log σ via the lower-bound transform.
        let base = ClosureDensity(dimension: 1) { x in
            let s = x[0]
            guard s > 0 else { return (-.infinity, [0]) }
            let z = (log(s) - 0.2) / 0.5
            return (-log(s) - 0.5 * z * z, [-1 / s - z / (0.5 * s)])
        }
        let d = TransformedDensity(base, transforms: [.lowerBound(0)])
        let r = try NUTS().sample(d, initial: d.unconstrain([3.0]), warmup: 300, draws: 1000, seed: 7)
        let sigmas = r.draws.map { d.constrain($0)[0] }
        XCTAssertTrue(sigmas.allSatisfy { $0 > 0 })
        let logs = sigmas.map { log($0) }
        let ess = Diagnostics.splitEffectiveSampleSize([logs])
        XCTAssertEqual(mean(logs), 0.2, accuracy: 5 * 0.5 / ess.squareRoot())
        XCTAssertEqual(covariance(logs, logs).squareRoot(), 0.5, accuracy: 5 * 0.5 / (2 * ess).squareRoot())
        // E[σ] = exp(μ + s²/2); Var σ = (e^{s²} − 1) e^{2μ + s²}.
        let expected = exp(0.2 + 0.125)
        let sdSigma = ((exp(0.25) - 1) * exp(0.4 + 0.25)).squareRoot()
        let essS = Diagnostics.splitEffectiveSampleSize([sigmas])
        XCTAssertEqual(mean(sigmas), expected, accuracy: 5 * sdSigma / essS.squareRoot())
    }

    func testLaplaceCovarianceSeedsDenseMetricWithoutAdaptation() throws {
        let d = try GaussianDensity(mean: mu2, covariance: sigma2)
        let mode = try LBFGS().maximize(d, initial: [5, 5])
        let cov = try laplaceCovariance(d, at: mode.x)
        var nuts = NUTS()
        nuts.adaptMetric = false
        let r = try nuts.sample(d, initial: mode.x, warmup: 150, draws: 600, seed: 4, metric: .dense, initialInverseMetric: cov)
        for i in 0..<2 { for j in 0..<2 { XCTAssertEqual(r.inverseMetric[i, j], sigma2[i, j], accuracy: 1e-4) } }
        assertMatchesGaussian(r, mean: mu2, covariance: sigma2)
        // Exact metric on a Gaussian: short trajectories.
        XCTAssertLessThan(r.stats.map { Double($0.treeDepth) }.reduce(0, +) / 600, 3.5)
    }

    func testInvalidInputsThrow() throws {
        let d = try GaussianDensity(mean: mu2, covariance: sigma2)
        XCTAssertThrowsError(try NUTS().sample(d, initial: [0], warmup: 10, draws: 10, seed: 1))
        let bad = ClosureDensity(dimension: 1) { _ in (-.infinity, [0]) }
        XCTAssertThrowsError(try NUTS().sample(bad, initial: [0], warmup: 10, draws: 10, seed: 1)) {
            XCTAssertEqual($0 as? InferenceError, .nonFiniteInitialDensity)
        }
        XCTAssertThrowsError(try NUTS().sample(d, initial: [0, 0], warmup: 10, draws: 10, seed: 1, metric: .dense,
                                               initialInverseMetric: Matrix([[1, 2], [2, 1]])))
    }
}
