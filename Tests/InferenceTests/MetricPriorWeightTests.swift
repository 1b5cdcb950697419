import Inference
import TesseraLinAlg
import TesseraSupport
import XCTest

/// `NUTS.metricPriorWeight`: with a good starting metric (a Laplace covariance) and a warm-up
/// whose windows hold fewer draws than dimensions, Stan's rule replaces the metric by a nearly
/// singular estimate (ridge 10⁻³ on parameters whose scales reach 10³) and the trajectories get
/// long; weighting the current metric as `dimension` draws keeps them short, and the draws are
/// still those of the target.
final class MetricPriorWeightTests: XCTestCase {
    func testPriorWeightKeepsAGoodStartingMetric() throws {
        let n = 16
        // Scales from 10⁻² to 10³ (positions in radians-like units to fluxes in nJy), correlated.
        let scales = (0..<n).map { pow(10, -2 + 5 * Double($0) / Double(n - 1)) }
        var sigma = Matrix.zeros(n, n)
        for i in 0..<n { for j in 0..<n { sigma[i, j] = scales[i] * scales[j] * (i == j ? 1 : 0.5 * pow(0.6, Double(abs(i - j)))) } }
        let mu = (0..<n).map { scales[$0] * Double($0 % 3) }
        let target = try GaussianDensity(mean: mu, covariance: sigma)
        var meanSteps: [Double] = []
        var results: [SampleResult] = []
        for weight in [0.0, Double(n)] {
            var nuts = NUTS(maxTreeDepth: 8, targetAcceptance: 0.8, initialStepSize: 0.5)
            nuts.metricPriorWeight = weight
            let r = try nuts.sample(target, initial: mu, warmup: 150, draws: 200, seed: 11, metric: .dense, initialInverseMetric: sigma)
            meanSteps.append(Double(r.stats.reduce(0) { $0 + $1.nLeapfrog }) / Double(r.stats.count))
            results.append(r)
        }
        // Measured (seed 11): 23.3 steps per draw with Stan's rule, 7.8 with the prior weight.
        XCTAssertLessThan(meanSteps[1], 0.5 * meanSteps[0], "leapfrog steps per draw: Stan's rule \(meanSteps[0]), weighted \(meanSteps[1])")
        XCTAssertLessThan(meanSteps[1], 16, "weighted: \(meanSteps[1]) steps per draw")
        XCTAssertEqual(results[1].divergences, 0)
        assertMatchesGaussian(results[1], mean: mu, covariance: sigma, k: 5)
    }
}
