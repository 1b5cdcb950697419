import Foundation
import HaloProfiles
import Inference
import TesseraLinAlg

/// Fitting one halo's mass (and optionally concentration) to its lensing observables.
public enum HaloFit {
    public enum Method: Sendable, Equatable {
        /// L-BFGS to the posterior mode, with a Laplace (inverse negative Hessian) covariance.
        case optimize
        /// NUTS, started from the mode with the Laplace covariance as initial inverse metric;
        /// `chains` chains with seeds (seed, chain index).
        case nuts(warmup: Int, draws: Int, chains: Int = 2)
    }

    public struct Result: Sendable {
        public let method: Method
        /// Parameter names, in order: "log10M" and possibly "log10c".
        public let parameterNames: [String]
        /// Posterior mode (optimize) or posterior mean (NUTS).
        public let estimate: [Double]
        /// Laplace covariance (optimize) or sample covariance of all draws (NUTS).
        public let covariance: Matrix
        /// The posterior mode found by L-BFGS (both methods start with it).
        public let mode: [Double]
        public let logDensityAtMode: Double
        public let optimizerConverged: Bool
        /// The L-BFGS termination status.
        public let optimizerStatus: OptimizationStatus
        /// NUTS draws per chain: `draws[chain][draw][parameter]`; empty for `.optimize`.
        public let draws: [[[Double]]]
        /// Split-R̂ per parameter (NaN for `.optimize`).
        public let rHat: [Double]
        /// Effective sample size per parameter (NaN for `.optimize`).
        public let effectiveSampleSize: [Double]
        /// Divergent transitions over all chains (0 for `.optimize`).
        public let divergences: Int

        /// log10 M estimate [M☉].
        public var log10Mass: Double { estimate[0] }
        /// 1σ error on log10 M (dex).
        public var log10MassError: Double { covariance[0, 0].squareRoot() }
        public var log10Concentration: Double? { estimate.count > 1 ? estimate[1] : nil }
        public var log10ConcentrationError: Double? { estimate.count > 1 ? covariance[1, 1].squareRoot() : nil }
        /// All draws of log10 M pooled over chains (empty for `.optimize`).
        public var log10MassSamples: [Double] { draws.flatMap { $0.map { $0[0] } } }
    }

    /// Fit a `HaloLikelihood`. The optimizer starts at log10 M = middle of the prior bounds
    /// (and log10 c from the concentration relation).
    public static func fit(_ likelihood: HaloLikelihood, method: Method = .optimize, seed: UInt64 = 0) throws -> Result {
        let (lo, hi) = likelihood.massPrior.bounds
        var start = [0.5 * (lo + hi)]
        if likelihood.fitConcentration {
            let c = likelihood.concentrationRelation.concentration(mass: Foundation.pow(10, start[0]),
                                                                  redshift: likelihood.redshift, cosmology: likelihood.cosmology)
            let b = likelihood.log10ConcentrationBounds
            start.append(Swift.min(Swift.max(Foundation.log10(c), b.lower + 1e-3), b.upper - 1e-3))
        }
        // A coarse grid in log10 M first: the likelihood can be very flat far from the data.
        var best = (x: start, f: -Double.infinity)
        for k in 0...40 {
            var x = start
            x[0] = lo + (hi - lo) * (Double(k) + 0.5) / 41
            if let f = try? likelihood.logDensityAndGradient(x).value, f > best.f { best = (x, f) }
        }
        let opt = try LBFGS().maximize(likelihood, initial: best.x)
        let names = likelihood.fitConcentration ? ["log10M", "log10c"] : ["log10M"]
        let n = likelihood.dimension
        let laplace = try laplaceCovariance(likelihood, at: opt.x, relativeStep: 1e-4)
        switch method {
        case .optimize:
            return Result(method: method, parameterNames: names, estimate: opt.x, covariance: laplace, mode: opt.x,
                          logDensityAtMode: opt.logDensity, optimizerConverged: opt.converged, optimizerStatus: opt.status, draws: [],
                          rHat: [Double](repeating: .nan, count: n), effectiveSampleSize: [Double](repeating: .nan, count: n),
                          divergences: 0)
        case let .nuts(warmup, drawCount, chains):
            guard chains >= 1, drawCount >= 2 else {
                throw ClusterFittingError.invalidArgument(field: "method", reason: "need chains ≥ 1 and draws ≥ 2")
            }
            var all: [[[Double]]] = []
            var divergences = 0
            for c in 0..<chains {
                let r = try NUTS().sample(likelihood, initial: opt.x, warmup: warmup, draws: drawCount, seed: seed,
                                          chain: UInt64(c), metric: .diagonal, initialInverseMetric: laplace)
                all.append(r.draws)
                divergences += r.divergences
            }
            let pooled = all.flatMap { $0 }
            let mean = (0..<n).map { j in pooled.reduce(0) { $0 + $1[j] } / Double(pooled.count) }
            var cov = Matrix.zeros(n, n)
            for d in pooled { for i in 0..<n { for j in 0..<n { cov[i, j] += (d[i] - mean[i]) * (d[j] - mean[j]) } } }
            cov = Matrix(rows: n, columns: n, values: cov.values.map { $0 / Double(pooled.count - 1) })
            let rhat = (0..<n).map { j in Diagnostics.splitRHat(all.map { $0.map { $0[j] } }) }
            let ess = (0..<n).map { j in Diagnostics.effectiveSampleSize(all.map { $0.map { $0[j] } }) }
            return Result(method: method, parameterNames: names, estimate: mean, covariance: cov, mode: opt.x,
                          logDensityAtMode: opt.logDensity, optimizerConverged: opt.converged, optimizerStatus: opt.status, draws: all,
                          rHat: rhat, effectiveSampleSize: ess, divergences: divergences)
        }
    }

    /// Convenience: build the likelihood and fit.
    public static func fit(observables: [HaloObservable], redshift: Double, cosmology: Cosmology,
                           fitConcentration: Bool = false, massPrior: MassPrior = .flat(lower: 12, upper: 16),
                           method: Method = .optimize, seed: UInt64 = 0) throws -> Result {
        let l = try HaloLikelihood(observables: observables, redshift: redshift, cosmology: cosmology,
                                   fitConcentration: fitConcentration, massPrior: massPrior)
        return try fit(l, method: method, seed: seed)
    }
}
