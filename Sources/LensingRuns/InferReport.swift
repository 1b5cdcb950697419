import Foundation
import Inference
import LensInference

/// The summary of an inference run (`summary.json`): per η parameter the posterior median and 68% interval, split
/// R̂ and ESS across the chains, the separated modes with their weights (`ModeReport`), the catalog's
/// hyperparameters (the truth when the catalog is a mock), and per lens the stage-1 diagnostics, the importance
/// effective sample size and the Monte Carlo variance of its ln L̂ at the posterior median η.
public struct InferReport: Codable, Sendable, Equatable {
    public struct Parameter: Codable, Sendable, Equatable {
        public var name: String
        public var median: Double, lower68: Double, upper68: Double
        /// Split R̂ and ESS across the chains (nil where not finite).
        public var rHat: Double?, ess: Double?
        public var truth: Double
        /// Whether the 68% interval holds the truth.
        public var covered: Bool
        public var modes: ModeReport
        /// Posterior mean of each chain (chains that disagree show here as well as in R̂ and the modes).
        public var chainMeans: [Double]
    }

    public struct Lens: Codable, Sendable, Equatable {
        public var id: String
        public var divergences: Int
        public var rHatAlpha: Double?
        public var essAlpha: Double?
        /// Kish ESS of the lens's importance weights at the posterior median η.
        public var importanceESS: Double
        /// The Monte Carlo variance of the lens's ln L̂_i at the posterior median η
        /// (`ReweightedPopulation.monteCarloVariances`; nil where not finite).
        public var monteCarloVariance: Double?
        /// With α conditionals: the median over kept draws of their conditional's standard deviation of α, and the
        /// grid step (a width under two steps is poorly resolved: `coarseConditionals`).
        public var conditionalWidth: Double?, conditionalStep: Double?
        /// With α conditionals: the α range the lens's slices reach ([lower, upper], `AlphaConditional.supportedAlpha`).
        public var supportedAlpha: [Double]?
        /// α of the first start, where the lens's first stage-1 chain never moved and its draws come from a second
        /// chain (`InferStages.LensSamples.abandonedStart`); nil otherwise.
        public var abandonedStartAlpha: Double? = nil

        public init(id: String, divergences: Int, rHatAlpha: Double?, essAlpha: Double?, importanceESS: Double,
                    conditionalWidth: Double? = nil, conditionalStep: Double? = nil, supportedAlpha: [Double]? = nil,
                    monteCarloVariance: Double? = nil) {
            (self.id, self.divergences, self.rHatAlpha, self.essAlpha, self.importanceESS) = (id, divergences, rHatAlpha, essAlpha, importanceESS)
            self.monteCarloVariance = monteCarloVariance
            (self.conditionalWidth, self.conditionalStep, self.supportedAlpha) = (conditionalWidth, conditionalStep, supportedAlpha)
        }
    }

    /// α_sps's approximate 95% range: the 68% interval's half-widths doubled on each side of the median (nil
    /// without an α parameter).
    public var alpha95: ClosedRange<Double>? {
        guard let a = parameters.first(where: { $0.name == "alpha_sps" }) else { return nil }
        return (a.median - 2 * (a.median - a.lower68))...(a.median + 2 * (a.upper68 - a.median))
    }

    /// Lenses whose α slices end inside α_sps's 95% range: the lens's density is zero beyond that end (up to one
    /// grid step's taper), so it cuts the η posterior there. On recovery mock 9017 one such lens (its slices ended
    /// at α 1.17 for a truth of 1.2, its stage-1 chain in a secondary region 9 below the optimum L-BFGS reaches from
    /// the truth) held α_sps at 1.144 [1.099, 1.163]. Its run printed only an importance ESS of 2.0 and 367 η
    /// divergences.
    public var lensesCuttingAlpha: [Lens] {
        guard let range = alpha95 else { return [] }
        return lenses.filter { l in
            guard let s = l.supportedAlpha, s.count == 2 else { return false }
            return range.contains(s[0]) && s[0] > range.lowerBound || range.contains(s[1]) && s[1] < range.upperBound
        }
    }

    /// Lenses whose α conditionals are narrower than two grid steps (median over their kept draws; or none resolved
    /// at all): their trapezoid normalisation and interpolation are then coarse; a smaller conditional_alpha_step helps.
    public var coarseConditionals: [Lens] {
        lenses.filter { l in
            guard let step = l.conditionalStep else { return false }
            guard let width = l.conditionalWidth else { return true }
            return width < 2 * step
        }
    }

    /// Stage-1 chains above this split R̂ or below this ESS of α are reported (`poorlyMixedLenses`).
    public static let stage1RHatLimit = 1.1, stage1ESSLimit = 10.0

    /// Lenses whose stage-1 α chain has split R̂ > `stage1RHatLimit` or ESS < `stage1ESSLimit` (or neither is
    /// finite): on the recovery mocks such chains sat in narrow regions away from the truth (e.g. α 0.88 ± 0.04
    /// against 1.2), and between two stage-1 runs of one mock, with six such lenses in one, stage 2's α moved by
    /// more than its 68% interval (1.142 against 1.246).
    public var poorlyMixedLenses: [Lens] {
        lenses.filter { Self.mixedPoorly(rHatAlpha: $0.rHatAlpha, essAlpha: $0.essAlpha) }
    }

    /// The rule of `poorlyMixedLenses` for one lens's split R̂ and ESS of α (nil: not finite), which refinement rounds
    /// also pick by.
    public static func mixedPoorly(rHatAlpha: Double?, essAlpha: Double?) -> Bool {
        guard let r = rHatAlpha, let e = essAlpha else { return true }
        return r > stage1RHatLimit || e < stage1ESSLimit
    }

    /// Above this Monte Carlo variance of ln p̂(η | data) at the median η the report warns (`monteCarloVariance`).
    public static let monteCarloVarianceLimit = 1.0

    /// The Monte Carlo variance of the whole ln p̂(η | data) at the posterior median η: the sum of the lenses'
    /// finite ones (nil where no lens has one; a lens with no weight at the median η has none). See
    /// `ReweightedPopulation.monteCarloVariances`.
    public var monteCarloVariance: Double? {
        let finite = lenses.compactMap(\.monteCarloVariance)
        return finite.isEmpty ? nil : finite.reduce(0, +)
    }

    public var parameters: [Parameter] = []
    public var lenses: [Lens] = []
    public var divergences = 0

    public init() {}

    public static func make(chains: [InferStages.EtaChain], lenses: [InferStages.LensSamples], population: ReweightedPopulation,
                            truth: [Double]) -> InferReport {
        var r = InferReport()
        let medians = Self.medians(chains)
        for (k, name) in InferStages.etaNames.enumerated() {
            let perChain = chains.map { $0.draws.map { $0[k] } }
            let pooled = perChain.flatMap { $0 }.sorted()
            let q = { (p: Double) in ModeReport.quantileSorted(pooled, p) }
            let median = medians[k], lo = q(0.16), hi = q(0.84)
            r.parameters.append(Parameter(name: name, median: median, lower68: lo, upper68: hi,
                                          rHat: finite(Diagnostics.splitRHat(perChain)), ess: finite(Diagnostics.splitEffectiveSampleSize(perChain)),
                                          truth: truth[k], covered: lo <= truth[k] && truth[k] <= hi,
                                          modes: ModeReport.find(perChain),
                                          chainMeans: perChain.map { $0.reduce(0, +) / Double(max($0.count, 1)) }))
        }
        let ess = population.effectiveSampleSizes(eta: medians)
        let variances = population.monteCarloVariances(eta: medians)
        r.lenses = lenses.enumerated().map { i, l in
            let widths = l.alphaConditional?.conditionalWidths.compactMap { $0 }.sorted() ?? []
            var lens = Lens(id: l.id, divergences: l.divergences, rHatAlpha: l.rHatAlpha, essAlpha: l.essAlpha, importanceESS: ess[i],
                        conditionalWidth: widths.isEmpty ? nil : widths[widths.count / 2], conditionalStep: l.alphaConditional?.alphaStep,
                        supportedAlpha: l.alphaConditional?.supportedAlpha.map { [$0.lowerBound, $0.upperBound] },
                        monteCarloVariance: variances[i].isFinite ? variances[i] : nil)
            lens.abandonedStartAlpha = l.abandonedStart?[6]
            return lens
        }
        r.divergences = chains.reduce(0) { $0 + $1.divergences }
        return r
    }

    /// Each η parameter's posterior median over all chains' draws pooled (where the report evaluates the lenses'
    /// importance ESS and Monte Carlo variance, and refinement rounds pick lenses).
    public static func medians(_ chains: [InferStages.EtaChain]) -> [Double] {
        InferStages.etaNames.indices.map { k in ModeReport.quantileSorted(chains.flatMap { $0.draws.map { $0[k] } }.sorted(), 0.5) }
    }

    /// Lines for the log.
    public var lines: [String] {
        func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
        var out = parameters.map { p in
            let modes = p.modes.modes.map { "\(f($0.location, 3)) (weight \(f($0.weight, 2)), chains \($0.chains.map(String.init).joined(separator: ",")))" }
            return "\(p.name) = \(f(p.median)) [\(f(p.lower68)), \(f(p.upper68))] (truth \(f(p.truth))) R̂ \(f(p.rHat ?? .nan, 3)) "
                + "ESS \(f(p.ess ?? .nan, 0)); \(p.modes.modes.count) mode(s): " + modes.joined(separator: "; ")
        }
        if let worst = lenses.min(by: { $0.importanceESS < $1.importanceESS }) {
            out.append("smallest importance ESS at the median η: \(f(worst.importanceESS, 1)) (\(worst.id)); η divergences: \(divergences)")
        }
        if let variance = monteCarloVariance {
            let largest = lenses.filter { $0.monteCarloVariance != nil }.sorted { $0.monteCarloVariance! > $1.monteCarloVariance! }.prefix(3)
            let largestText = largest.map { "\($0.id) \(f($0.monteCarloVariance!, 3))" }.joined(separator: ", ")
            out.append("Monte Carlo variance of ln p(η | data) at the median η: \(f(variance, 2)) (largest: \(largestText))")
            if variance > Self.monteCarloVarianceLimit {
                out.append("warning: the Monte Carlo variance of ln p(η | data) from the stage-1 samples is \(f(variance, 2)), above "
                    + "\(f(Self.monteCarloVarianceLimit, 0)): the η posterior would move by about its own width in a rerun of "
                    + "stage 1 and its intervals are too narrow; it falls as 1/(effective draws per lens): raise refine_rounds "
                    + "(more chains for the lenses that carry it), or lens_draws and conditional_draws")
            }
        }
        let restarted = lenses.filter { $0.abandonedStartAlpha != nil }
        if !restarted.isEmpty {
            out.append("\(restarted.count) of \(lenses.count) lenses' first stage-1 chain never moved in α (a start pinned "
                + "against a wall of the posterior) and was replaced by a chain from a start away from it: "
                + restarted.map { "\($0.id) (first start α \(f($0.abandonedStartAlpha!, 3)))" }.joined(separator: ", "))
        }
        let unmixed = poorlyMixedLenses
        if !unmixed.isEmpty {
            out.append("warning: \(unmixed.count) of \(lenses.count) lenses' stage-1 chains mixed poorly (split R̂(α) > "
                + "\(f(Self.stage1RHatLimit, 2)) or ESS(α) < \(f(Self.stage1ESSLimit, 0))): "
                + unmixed.map { "\($0.id) (R̂ \(f($0.rHatAlpha ?? .nan, 2)), ESS \(f($0.essAlpha ?? .nan, 0)))" }.joined(separator: ", ")
                + "; their samples make stage 2 noisy: raise lens_warmup, lens_draws or lens_max_tree_depth")
        }
        let coarse = coarseConditionals
        if !coarse.isEmpty {
            out.append("warning: \(coarse.count) of \(lenses.count) lenses' α conditionals are narrower than two grid steps: "
                + coarse.map { "\($0.id) (width \(f($0.conditionalWidth ?? .nan, 4)), step \(f($0.conditionalStep ?? .nan, 4)))" }
                    .joined(separator: ", ") + "; lower conditional_alpha_step")
        }
        if let range = alpha95, case let cutting = lensesCuttingAlpha, !cutting.isEmpty {
            out.append("warning: \(cutting.count) of \(lenses.count) lenses' α slices end inside α_sps's 95% range "
                + "[\(f(range.lowerBound, 3)), \(f(range.upperBound, 3))]: "
                + cutting.map { "\($0.id) (α \(f($0.supportedAlpha![0], 2))–\(f($0.supportedAlpha![1], 2)))" }.joined(separator: ", ")
                + "; each cuts the η posterior at its end. Its stage-1 chain may have missed part of its posterior: "
                + "compare its draws with the optimum (tessera-bench lens-truth RUN on a mock), or sample it again with "
                + "larger lens_warmup or lens_max_tree_depth")
        }
        return out
    }
}
