import Foundation
import Inference
import TesseraLinAlg

/// One halo's input to the population model: its true (or proxy-predicted) mass and posterior
/// samples of its weak-lensing mass, both as log10 M [M☉]. The samples must come from a fit with a
/// prior flat in log10 M (as `HaloFit` with `.flat` gives), so dividing by the prior is a constant.
public struct PopulationHalo: Sendable {
    public let log10TrueMass: Double
    public let log10MassSamples: [Double]
    public init(log10TrueMass: Double, log10MassSamples: [Double]) throws(ClusterFittingError) {
        guard log10TrueMass.isFinite else { throw .notFinite(field: "log10TrueMass", index: 0, value: log10TrueMass) }
        guard !log10MassSamples.isEmpty else { throw .empty(field: "log10MassSamples") }
        for (i, s) in log10MassSamples.enumerated() where !s.isFinite {
            throw .notFinite(field: "log10MassSamples", index: i, value: s)
        }
        self.log10TrueMass = log10TrueMass
        self.log10MassSamples = log10MassSamples
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
    /// Samples converted to ln M_WL − ln M_true, per halo.
    let offsets: [[Double]]

    public var dimension: Int { 2 }

    public init(halos: [PopulationHalo]) throws(ClusterFittingError) {
        guard !halos.isEmpty else { throw .empty(field: "halos") }
        self.halos = halos
        let ln10 = Foundation.log(10.0)
        offsets = halos.map { h in h.log10MassSamples.map { ($0 - h.log10TrueMass) * ln10 } }
    }

    public func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
        guard x.count == 2 else { throw InferenceError.dimensionMismatch(expected: 2, got: x.count) }
        let lnb = x[0], lnS = x[1]
        guard lnb.isFinite, lnS.isFinite, lnS > -20, lnS < 10 else { return (-.infinity, [0, 0]) }
        let s = Foundation.exp(lnS), inv2 = 1 / (s * s)
        var value = 0.0, gB = 0.0, gS = 0.0
        var logs = [Double]()
        for off in offsets {
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
        let db = (lnb - lnBiasPriorMean) / lnBiasPriorSigma, ds = (lnS - lnScatterPriorMean) / lnScatterPriorSigma
        value += -0.5 * db * db - 0.5 * ds * ds
        gB -= db / lnBiasPriorSigma
        gS -= ds / lnScatterPriorSigma
        return (value, [gB, gS])
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
        func q(_ a: [Double], _ p: Double) -> Double {
            let pos = p * Double(a.count - 1)
            let i = Int(pos), f = pos - Double(i)
            return i + 1 < a.count ? a[i] * (1 - f) + a[i + 1] * f : a[i]
        }
        let rhat = (0..<2).map { j in Diagnostics.splitRHat(all.map { $0.map { $0[j] } }) }
        let ess = (0..<2).map { j in Diagnostics.effectiveSampleSize(all.map { $0.map { $0[j] } }) }
        return Result(draws: all, biasSamples: b, scatterSamples: s, biasMedian: q(b, 0.5), scatterMedian: q(s, 0.5),
                      biasInterval95: (q(b, 0.025), q(b, 0.975)), scatterInterval95: (q(s, 0.025), q(s, 0.975)),
                      rHat: rhat, effectiveSampleSize: ess, divergences: divergences)
    }
}
