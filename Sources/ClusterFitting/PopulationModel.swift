import Foundation
import Inference
import TesseraLinAlg

/// One halo's input to the population model: its true (or proxy-predicted) mass and its
/// weak-lensing mass measurement, both as log10 M [M☉], either as posterior samples or as a
/// Gaussian (maximum-likelihood point and 1σ error, as the optimiser gives).
///
/// Samples must come from a fit with a prior flat in log10 M (as `HaloFit` with `.flat` gives),
/// so dividing by the prior is a constant. A Gaussian measurement is the Laplace approximation of
/// the same flat-prior posterior, so its marginal over the scatter is analytic.
public struct PopulationHalo: Sendable {
    public enum Measurement: Sendable, Equatable {
        /// Posterior draws of log10 M_WL.
        case samples([Double])
        /// log10 M_WL point estimate and its 1σ error (dex).
        case gaussian(log10Mass: Double, log10Error: Double)
    }

    public let log10TrueMass: Double
    public let measurement: Measurement

    /// Posterior samples of log10 M_WL (empty for a Gaussian measurement).
    public var log10MassSamples: [Double] {
        if case let .samples(s) = measurement { return s }
        return []
    }

    public init(log10TrueMass: Double, log10MassSamples: [Double]) throws(ClusterFittingError) {
        guard log10TrueMass.isFinite else { throw .notFinite(field: "log10TrueMass", index: 0, value: log10TrueMass) }
        guard !log10MassSamples.isEmpty else { throw .empty(field: "log10MassSamples") }
        for (i, s) in log10MassSamples.enumerated() where !s.isFinite {
            throw .notFinite(field: "log10MassSamples", index: i, value: s)
        }
        self.log10TrueMass = log10TrueMass
        self.measurement = .samples(log10MassSamples)
    }

    /// A halo measured by its maximum-likelihood log10 M_WL and 1σ error `log10Error` (dex, > 0).
    public init(log10TrueMass: Double, log10Mass: Double, log10Error: Double) throws(ClusterFittingError) {
        guard log10TrueMass.isFinite else { throw .notFinite(field: "log10TrueMass", index: 0, value: log10TrueMass) }
        guard log10Mass.isFinite else { throw .notFinite(field: "log10Mass", index: 0, value: log10Mass) }
        guard log10Error.isFinite, log10Error > 0 else { throw .nonPositive(field: "log10Error", index: 0, value: log10Error) }
        self.log10TrueMass = log10TrueMass
        self.measurement = .gaussian(log10Mass: log10Mass, log10Error: log10Error)
    }
}

/// The log-normal weak-lensing mass–true mass relation of one bin,
/// ln M_WL = ln b + ln M_true + ε, ε ~ N(0, σ²) (natural log; σ is the scatter in ln M),
/// as a `LogDensity` over θ = (ln b, ln σ).
///
/// Each halo's likelihood is the importance-sampling estimate
/// Lᵢ(b, σ) = (1/S) Σₛ N(ln M_WL,ᵢₛ | ln b + ln M_true,ᵢ, σ²) / prior(sₛ), where the per-halo prior is flat
/// in log10 M (so a constant, dropped). Priors: ln b ~ N(`lnBiasPriorMean`, `lnBiasPriorSigma`²),
/// ln σ ~ N(`lnScatterPriorMean`, `lnScatterPriorSigma`²). The gradient is exact.
public struct PopulationModel: LogDensity, Sendable {
    public let halos: [PopulationHalo]
    public var lnBiasPriorMean = 0.0
    public var lnBiasPriorSigma = 1.0
    public var lnScatterPriorMean = Foundation.log(0.3)
    public var lnScatterPriorSigma = 1.5
    /// Per halo, in natural log: `.samples` holds ln M_WL,s − ln M_true; `.gaussian` holds
    /// (ln M̂_WL − ln M_true, variance of ln M̂_WL).
    enum Offset: Sendable {
        case samples([Double])
        case gaussian(Double, Double)
    }
    let offsets: [Offset]

    public var dimension: Int { 2 }

    public init(halos: [PopulationHalo]) throws(ClusterFittingError) {
        guard !halos.isEmpty else { throw .empty(field: "halos") }
        self.halos = halos
        let ln10 = Foundation.log(10.0)
        offsets = halos.map { h in
            switch h.measurement {
            case let .samples(s): return .samples(s.map { ($0 - h.log10TrueMass) * ln10 })
            case let .gaussian(m, e): return .gaussian((m - h.log10TrueMass) * ln10, e * e * ln10 * ln10)
            }
        }
    }

    /// log L(b, σ) summed over halos (no priors) and its gradient in (ln b, ln σ).
    ///
    /// Sampled halo: log of the importance-sampling mean (1/S) Σₛ N(ln M_WL,ₛ | ln b + ln M_true, σ²).
    /// Gaussian halo: log N(ln M̂_WL | ln b + ln M_true, σ² + sᵢ²), the exact marginal over M_WL.
    public func logLikelihoodAndGradient(lnBias lnb: Double, lnScatter lnS: Double) -> (value: Double, gradient: [Double]) {
        guard lnb.isFinite, lnS.isFinite, lnS > -20, lnS < 10 else { return (-.infinity, [0, 0]) }
        let s2 = Foundation.exp(2 * lnS), inv2 = 1 / s2
        var value = 0.0, gB = 0.0, gS = 0.0
        var logs = [Double]()
        for offset in offsets {
            switch offset {
            case let .gaussian(o, e2):
                let v = s2 + e2, r = o - lnb
                value += -0.5 * r * r / v - 0.5 * Foundation.log(v) - 0.9189385332046727
                gB += r / v
                gS += s2 * (r * r - v) / (v * v)
            case let .samples(off):
                logs.removeAll(keepingCapacity: true)
                var mx = -Double.infinity
                for o in off {
                    let r = o - lnb
                    let l = -0.5 * r * r * inv2
                    logs.append(l)
                    if l > mx { mx = l }
                }
                var sw = 0.0, swR = 0.0, swR2 = 0.0
                for (k, o) in off.enumerated() {
                    let w = Foundation.exp(logs[k] - mx)
                    let r = o - lnb
                    sw += w; swR += w * r; swR2 += w * r * r
                }
                // log Lᵢ = log mean exp(logs) − ln σ − ½ ln 2π
                value += mx + Foundation.log(sw / Double(off.count)) - lnS - 0.9189385332046727
                gB += (swR / sw) * inv2
                gS += (swR2 / sw) * inv2 - 1
            }
        }
        return (value, [gB, gS])
    }

    /// log L(b, σ) summed over halos, without the priors.
    public func logLikelihood(bias: Double, scatter: Double) -> Double {
        guard bias > 0, scatter > 0 else { return -.infinity }
        return logLikelihoodAndGradient(lnBias: Foundation.log(bias), lnScatter: Foundation.log(scatter)).value
    }

    public func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
        guard x.count == 2 else { throw InferenceError.dimensionMismatch(expected: 2, got: x.count) }
        let lnb = x[0], lnS = x[1]
        var (value, g) = logLikelihoodAndGradient(lnBias: lnb, lnScatter: lnS)
        guard value.isFinite else { return (-.infinity, [0, 0]) }
        let db = (lnb - lnBiasPriorMean) / lnBiasPriorSigma, ds = (lnS - lnScatterPriorMean) / lnScatterPriorSigma
        value += -0.5 * db * db - 0.5 * ds * ds
        g[0] -= db / lnBiasPriorSigma
        g[1] -= ds / lnScatterPriorSigma
        return (value, g)
    }

    /// Posterior summary of b and σ.
    public struct Result: Sendable {
        /// Draws of (ln b, ln σ), per chain.
        public let draws: [[[Double]]]
        /// b = exp(ln b) draws pooled over chains, sorted ascending (for quantiles; draw order is in `draws`).
        public let biasSamples: [Double]
        /// σ = exp(ln σ) draws pooled over chains, sorted ascending.
        public let scatterSamples: [Double]
        public let biasMedian: Double
        public let scatterMedian: Double
        /// Central 68% interval (16%, 84% quantiles).
        public let biasInterval68: (lower: Double, upper: Double)
        public let scatterInterval68: (lower: Double, upper: Double)
        /// Central 95% interval (2.5%, 97.5% quantiles).
        public let biasInterval95: (lower: Double, upper: Double)
        public let scatterInterval95: (lower: Double, upper: Double)
        /// Split-R̂ and ESS for (ln b, ln σ).
        public let rHat: [Double]
        public let effectiveSampleSize: [Double]
        public let divergences: Int
    }

    /// Sample (ln b, ln σ) with NUTS (`chains` chains, seeds (seed, chain)), starting at the L-BFGS mode.
    public func fit(warmup: Int = 300, draws: Int = 300, chains: Int = 2, seed: UInt64 = 0) throws -> Result {
        guard chains >= 1, draws >= 2 else {
            throw ClusterFittingError.invalidArgument(field: "draws", reason: "need chains ≥ 1 and draws ≥ 2")
        }
        let opt = try LBFGS().maximize(self, initial: [0, Foundation.log(0.3)])
        let cov = try? laplaceCovariance(self, at: opt.x)
        var all: [[[Double]]] = []
        var divergences = 0
        for c in 0..<chains {
            let r = try NUTS().sample(self, initial: opt.x, warmup: warmup, draws: draws, seed: seed, chain: UInt64(c),
                                      metric: .diagonal, initialInverseMetric: cov)
            all.append(r.draws)
            divergences += r.divergences
        }
        let pooled = all.flatMap { $0 }
        let b = pooled.map { Foundation.exp($0[0]) }.sorted()
        let s = pooled.map { Foundation.exp($0[1]) }.sorted()
        let q = Self.quantile
        let rhat = (0..<2).map { j in Diagnostics.splitRHat(all.map { $0.map { $0[j] } }) }
        let ess = (0..<2).map { j in Diagnostics.effectiveSampleSize(all.map { $0.map { $0[j] } }) }
        return Result(draws: all, biasSamples: b, scatterSamples: s, biasMedian: q(b, 0.5), scatterMedian: q(s, 0.5),
                      biasInterval68: (q(b, 0.16), q(b, 0.84)), scatterInterval68: (q(s, 0.16), q(s, 0.84)),
                      biasInterval95: (q(b, 0.025), q(b, 0.975)), scatterInterval95: (q(s, 0.025), q(s, 0.975)),
                      rHat: rhat, effectiveSampleSize: ess, divergences: divergences)
    }

    /// The `p` quantile of ascending `a` (linear interpolation between order statistics).
    public static func quantile(_ a: [Double], _ p: Double) -> Double {
        let pos = p * Double(a.count - 1)
        let i = Int(pos), f = pos - Double(i)
        return i + 1 < a.count ? a[i] * (1 - f) + a[i + 1] * f : a[i]
    }
}
