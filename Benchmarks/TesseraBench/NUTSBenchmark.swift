import Foundation
import Inference
import TesseraLinAlg

/// NUTS efficiency on a 100-dimensional correlated Gaussian, for comparison with numpyro's NUTS on
/// the identical target (`Benchmarks/nuts_vs_numpyro.sh` runs both in one go).
///
/// Target (defined identically in `Benchmarks/nuts_numpyro.py`): x ~ N(μ, Σ), d = 100,
/// Σᵢⱼ = sᵢ sⱼ ρ^|i−j| with ρ = 0.9 and sᵢ = 10^(−0.5 + i/(d−1)), μᵢ = (i mod 5) − 2; every chain
/// starts at x = 0 with the dense metric, target acceptance 0.8, maximum tree depth 10.
/// Figures per chain: split ESS (Stan's estimator, `Diagnostics.splitEffectiveSampleSize`) of
/// every coordinate, min and median over coordinates; gradient evaluations = Σ nLeapfrog over the
/// sampling draws (warm-up reported separately); ESS per gradient evaluation = ESS / sampling
/// gradients; wall time of warm-up + sampling.
enum NUTSBenchmark {
    static let dimension = 100
    static let rho = 0.9

    static func scales(_ d: Int) -> [Double] { (0..<d).map { pow(10, -0.5 + Double($0) / Double(d - 1)) } }
    static func mean(_ d: Int) -> [Double] { (0..<d).map { Double($0 % 5) - 2 } }
    static func covariance(_ d: Int) -> Matrix {
        let s = scales(d)
        var m = Matrix.zeros(d, d)
        for i in 0..<d { for j in 0..<d { m[i, j] = s[i] * s[j] * pow(rho, Double(abs(i - j))) } }
        return m
    }

    /// log N(x; μ, Σ) up to a constant, through the precision matrix P = Σ⁻¹ (one dgemv per call).
    struct Target: LogDensity {
        let mu: [Double]
        let precision: Matrix
        var dimension: Int { mu.count }
        func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
            var d = x
            for i in 0..<d.count { d[i] -= mu[i] }
            let pd = precision.symmetricMultiply(d)
            var v = 0.0
            for i in 0..<d.count { v += d[i] * pd[i] }
            return (-0.5 * v, pd.map { -$0 })
        }
    }

    static func run(warmup: Int, draws: Int, chains: Int) {
        do {
            let d = dimension
            let target = Target(mu: mean(d), precision: try Cholesky(covariance(d)).inverse())
            let sigma = covariance(d)
            print("# target: d=\(d) AR(1) rho=\(rho) scales 10^(-0.5..0.5), dense metric, warmup=\(warmup) draws=\(draws), seed 2026 streams 0..<\(chains)")
            print("# chain min_ess median_ess grad_evals warmup_grad_evals min_ess_per_grad median_ess_per_grad wall_s divergences step_size max_abs_z_mean")
            var rows: [[Double]] = []
            for c in 0..<chains {
                let t0 = Date()
                let r = try NUTS().sample(target, initial: [Double](repeating: 0, count: d), warmup: warmup, draws: draws,
                                          seed: 2026, chain: UInt64(c), metric: .dense)
                let wall = Date().timeIntervalSince(t0)
                var ess: [Double] = []
                var maxZ = 0.0
                for i in 0..<d {
                    let chain = r.chain(i)
                    let e = Diagnostics.splitEffectiveSampleSize([chain])
                    ess.append(e)
                    let m = chain.reduce(0, +) / Double(chain.count)
                    maxZ = max(maxZ, abs(m - target.mu[i]) / (sigma[i, i].squareRoot() / e.squareRoot()))
                }
                ess.sort()
                let grads = Double(r.stats.reduce(0) { $0 + $1.nLeapfrog })
                let warmGrads = Double(r.warmupStats.reduce(0) { $0 + $1.nLeapfrog })
                let row = [ess[0], (ess[d / 2 - 1] + ess[d / 2]) / 2, grads, warmGrads, ess[0] / grads,
                           (ess[d / 2 - 1] + ess[d / 2]) / 2 / grads, wall, Double(r.divergences), r.stepSize, maxZ]
                rows.append(row)
                print(String(format: "chain %d %.1f %.1f %.0f %.0f %.4f %.4f %.3f %.0f %.4f %.2f", c, row[0], row[1], row[2], row[3],
                             row[4], row[5], row[6], row[7], row[8], row[9]))
            }
            let avg = (0..<rows[0].count).map { j in rows.reduce(0) { $0 + $1[j] } / Double(rows.count) }
            print(String(format: "summary min_ess=%.1f median_ess=%.1f grad_evals=%.0f warmup_grad_evals=%.0f min_ess/grad=%.4f median_ess/grad=%.4f wall_s=%.3f divergences=%.1f",
                         avg[0], avg[1], avg[2], avg[3], avg[4], avg[5], avg[6], avg[7]))
        } catch {
            print("nuts benchmark failed: \(error)")
            exit(1)
        }
    }
}
