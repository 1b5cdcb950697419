import Foundation
import Inference
import TesseraLinAlg
import XCTest

/// NUTS with the dense metric on a high-dimensional correlated Gaussian with known moments:
/// Σᵢⱼ = sᵢ sⱼ ρ^|i−j| (AR(1), ρ = 0.9, condition number ≈ 3600 with the scales), μᵢ = (i mod 5) − 2
/// — the same target as `tessera-bench nuts` and `Benchmarks/nuts_numpyro.py`.
///
/// The 100-dimensional run takes several seconds in a debug build, so debug builds check d = 30
/// unless TESSERA_SLOW_TESTS=1; release builds (and that variable) check d = 100.
final class CorrelatedGaussianTests: XCTestCase {
    static var fullDimension: Bool {
        #if DEBUG
        return ProcessInfo.processInfo.environment["TESSERA_SLOW_TESTS"] == "1"
        #else
        return true
        #endif
    }

    static func target(_ d: Int, rho: Double = 0.9) throws -> (mu: [Double], sigma: Matrix, density: GaussianDensity) {
        let s = (0..<d).map { pow(10, -0.5 + Double($0) / Double(d - 1)) }
        var sigma = Matrix.zeros(d, d)
        for i in 0..<d { for j in 0..<d { sigma[i, j] = s[i] * s[j] * pow(rho, Double(abs(i - j))) } }
        let mu = (0..<d).map { Double($0 % 5) - 2 }
        return (mu, sigma, try GaussianDensity(mean: mu, covariance: sigma))
    }

    func testDenseMetricRecoversMeansVariancesAndNeighbourCovariances() throws {
        let d = Self.fullDimension ? 100 : 30
        let (mu, sigma, density) = try Self.target(d)
        let draws = 1000
        let r = try NUTS().sample(density, initial: [Double](repeating: 0, count: d), warmup: 1000, draws: draws,
                                  seed: 2027, metric: .dense)
        XCTAssertEqual(r.divergences, 0)
        var sumZ2 = 0.0
        for i in 0..<d {
            let x = r.chain(i)
            let ess = Diagnostics.splitEffectiveSampleSize([x])
            XCTAssertGreaterThan(ess, 200, "ESS of coordinate \(i): \(ess)")
            XCTAssertLessThan(Diagnostics.splitRHat([x]), 1.05, "split R-hat of coordinate \(i)")
            // Mean within 4 Monte-Carlo standard errors (sd/√ESS).
            let m = x.reduce(0, +) / Double(draws)
            let z = (m - mu[i]) / (sigma[i, i].squareRoot() / ess.squareRoot())
            sumZ2 += z * z
            XCTAssertLessThan(abs(z), 4, "mean of coordinate \(i): \(m) vs \(mu[i]) (z = \(z))")
            // Variance: the mean of (x − μ)², whose own MCSE is sd((x − μ)²)/√ESS((x − μ)²).
            let sq = x.map { ($0 - mu[i]) * ($0 - mu[i]) }
            let essSq = Diagnostics.splitEffectiveSampleSize([sq])
            let v = sq.reduce(0, +) / Double(draws)
            // Var((x − μ)²) = 2σ⁴ for a Gaussian.
            let seV = (2.0).squareRoot() * sigma[i, i] / essSq.squareRoot()
            XCTAssertLessThan(abs(v - sigma[i, i]), 4 * seV, "variance of coordinate \(i): \(v) vs \(sigma[i, i]) (\((v - sigma[i, i]) / seV) SE)")
            // Lag-one covariance (ρ sᵢ sᵢ₊₁) within 4 SE, Var(xᵢxⱼ) ≈ (σᵢᵢσⱼⱼ + σᵢⱼ²).
            if i + 1 < d {
                let y = r.chain(i + 1)
                let prod = zip(x, y).map { ($0 - mu[i]) * ($1 - mu[i + 1]) }
                let essP = Diagnostics.splitEffectiveSampleSize([prod])
                let c = prod.reduce(0, +) / Double(draws)
                let se = ((sigma[i, i] * sigma[i + 1, i + 1] + sigma[i, i + 1] * sigma[i, i + 1]) / essP).squareRoot()
                XCTAssertLessThan(abs(c - sigma[i, i + 1]), 4 * se, "cov(\(i), \(i + 1)): \(c) vs \(sigma[i, i + 1])")
            }
        }
        // Jointly: the mean squared z-score of the d means is ≈ 1 if the ESS-based MCSE is honest
        // and the sampler unbiased (neighbouring coordinates are correlated, so it scatters more
        // than χ²_d/d would).
        XCTAssertLessThan(sumZ2 / Double(d), 2.5, "mean z² = \(sumZ2 / Double(d))")
        // The adapted dense metric approximates Σ: the whitened trajectories are short.
        let meanLeapfrog = Double(r.stats.reduce(0) { $0 + $1.nLeapfrog }) / Double(draws)
        XCTAssertLessThan(meanLeapfrog, 32, "mean leapfrog steps per draw \(meanLeapfrog)")
    }
}
