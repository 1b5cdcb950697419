import Foundation
import HaloProfiles
import Inference
import LensInference
import TesseraLinAlg
import TesseraSupport

/// The per-item computations of `tessera infer`, kept free of ranks and files so they can be tested alone:
/// stage 1 (one lens's interim posterior by NUTS), stage 2 (one NUTS chain over η on the reweighted population
/// density) and stage 3 (per-lens parameters drawn from their conditional posteriors given the η draws).
///
/// Seeds: lens i's chain uses `RandomSource(seed:, stream: i)`, η chain c `stream: 1_000_000 + c` (its start) and
/// NUTS stream `1_000_000 + c`, the conditional draws of chain c `stream: 2_000_000 + c`; results therefore do
/// not depend on which rank computed them or in which order, which is what makes a resumed run equal an
/// unkilled one.
public enum InferStages {
    /// Names of the stage-1 coordinates (the columns of a lens's draws).
    public static let lensParameterNames = ["log_halo_mass", "shear1", "shear2", "source_x", "source_y", "log_source_flux", "alpha_sps"]
    /// Names of the inferred hyperparameters (the columns of an η draw).
    public static let etaNames = ["alpha_sps", "halo_slope", "halo_normalisation", "halo_scatter"]

    /// One lens's stage-1 result: its NUTS draws in constrained units (columns `lensParameterNames`).
    public struct LensSamples: Codable, Sendable, Equatable {
        public var index: Int
        public var id: String
        public var logMsps: Double
        public var start: [Double]
        public var draws: [[Double]]
        /// ln π_int(log M_h, α) of the interim prior (the same for every draw: uniform boxes).
        public var logInterim: Double
        public var stepSize: Double
        public var divergences: Int
        public var meanAcceptStat: Double
        /// Split R̂ and bulk ESS of the single chain's α and log M_h (nil where not finite, e.g. a constant chain).
        public var rHatAlpha: Double?, rHatLogHaloMass: Double?
        public var essAlpha: Double?
        /// The kept draws' α conditionals (`alpha_marginal: conditional`; nil with the kernel).
        public var alphaConditional: AlphaConditional?
        /// Where the lens's first chain started, when that chain never moved in α (`isStuck`) and these draws
        /// are a second chain's, from a start away from it (`LensStart.find(avoiding:)`); nil otherwise.
        public var abandonedStart: [Double]? = nil

        /// A chain that never moved in α: its draws' standard deviation of α below `stuckAlphaFraction` of the
        /// interim α box. Measured on the recovery mocks (449 stage-1 chains, box 0.7–1.7): one chain at 1.3e-4
        /// (351 of 400 draws divergent, pinned where an image's (κ, γ) reaches the table's edge, every draw at
        /// α 0.724), the next smallest 0.021, the median about 0.15.
        public func isStuck(alphaRange: ClosedRange<Double>) -> Bool {
            guard let spread = alphaSpread else { return false }
            return spread.sd < stuckAlphaFraction * (alphaRange.upperBound - alphaRange.lowerBound)
        }

        /// Mean and standard deviation of α over the draws; nil with fewer than two.
        var alphaSpread: (mean: Double, sd: Double)? {
            let alpha = draws.map { $0[6] }
            guard alpha.count > 1 else { return nil }
            let mean = alpha.reduce(0, +) / Double(alpha.count)
            return (mean, (alpha.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(alpha.count - 1)).squareRoot())
        }
    }

    /// See `LensSamples.isStuck`.
    public static let stuckAlphaFraction = 0.005

    /// The α range, as a fraction of the interim box on each side of a stuck chain's α, that its replacement's start
    /// avoids: wider than a scan cell of `LensStart` (1/11 of the box), so the nearest profile point is skipped.
    public static let stuckAvoidFraction = 0.1

    /// Lens `lens`'s stage-1 density in constrained coordinates: its likelihood under the configured interim boxes
    /// (log M_h, α), microlensing setting and source size (what `sampleLens` samples, and what a check of its draws
    /// must evaluate).
    public static func interimPosterior(_ lens: MockLens, c: InferConfiguration, microlensing: MicrolensedFlux,
                                        cosmology: Cosmology) throws -> LensInterimPosterior {
        let like = try LensLikelihood(lens: lens, cosmology: cosmology, microlensing: microlensing, sourceSize: c.sourceSize)
        return try LensInterimPosterior(likelihood: like, survey: InferRunner.survey(c),
                                        logHaloMassRange: c.interimLogHaloMass[0]...c.interimLogHaloMass[1],
                                        alphaRange: c.interimAlpha[0]...c.interimAlpha[1], microlensing: c.microlensing)
    }

    /// Stage 1 for one lens: start (`LensStart`), Laplace metric where the Hessian allows, then NUTS (dense metric),
    /// in `EnclosedMassCoordinates` (`lens_coordinates: enclosed_mass`) or in z itself (`halo_mass`). A chain that
    /// never moved in α (`LensSamples.isStuck`) is replaced by a chain from `LensStart.find(avoiding:)`'s start away
    /// from it (its `abandonedStart` says so; the run's log names the lens).
    /// - Parameters:
    ///   - from: the chain's start (constrained z); `LensStart.find`'s when nil.
    ///   - round: 0 for the lens's first chain; k for the chain a refinement round k adds (its own random stream,
    ///     `refinementStream`).
    ///   - slope: the α conditionals' shear b (`AlphaConditional.slope`); a refinement chain takes its lens's first
    ///     chain's, so that the two chains' kept draws are one set of slices.
    public static func sampleLens(index: Int, lens: MockLens, c: InferConfiguration, microlensing: MicrolensedFlux,
                                  cosmology: Cosmology, from: [Double]? = nil, round: Int = 0, slope: [Double]? = nil) throws -> LensSamples {
        let posterior = try interimPosterior(lens, c: c, microlensing: microlensing, cosmology: cosmology)
        let start = try from ?? LensStart.find(posterior).z
        let first = try sampleLens(index: index, lens: lens, c: c, posterior: posterior, start: start, round: round, slope: slope)
        // A chain that never moved in α is no sample of the lens's posterior (its slices would span one grid step
        // and cut every other lens's α off there): sample again from the best start away from it.
        guard first.isStuck(alphaRange: posterior.alphaRange), let stuckAlpha = first.alphaSpread?.mean else { return first }
        let width = posterior.alphaRange.upperBound - posterior.alphaRange.lowerBound
        let avoid = (stuckAlpha - stuckAvoidFraction * width)...(stuckAlpha + stuckAvoidFraction * width)
        // No start away from it: keep the stuck chain, which the run's report flags (ESS of α under
        // `InferReport.stage1ESSLimit`) and whose narrow slices stage 2 names if they cut α_sps off.
        guard let other = try? LensStart.find(posterior, avoiding: avoid) else { return first }
        var second = try sampleLens(index: index, lens: lens, c: c, posterior: posterior, start: other.z, round: round, slope: slope)
        second.abandonedStart = start
        return second
    }

    /// One chain of `sampleLens` from `start` (constrained z).
    static func sampleLens(index: Int, lens: MockLens, c: InferConfiguration, posterior: LensInterimPosterior,
                           start: [Double], round: Int, slope: [Double]?) throws -> LensSamples {
        func conditional(_ density: some AlphaSliceable, toZ: @escaping ([Double]) throws -> [Double]) -> (([[Double]]) throws -> AlphaConditional)? {
            guard c.alphaMarginal == "conditional" else { return nil }
            return { w in
                try AlphaConditional.compute(density, draws: w, kept: c.conditionalDraws, alphaRange: posterior.alphaRange,
                                             step: c.conditionalAlphaStep, slope: slope, toZ: toZ)
            }
        }
        let stream = UInt64(index) + UInt64(round) * refinementStream
        if c.lensCoordinates == "enclosed_mass" {
            let coordinates = EnclosedMassCoordinates(posterior)
            guard let w0 = coordinates.sampling(start) else {
                throw LensInferenceError.invalidLens(lens: lens.id, reason: "its start \(start) is no valid lens")
            }
            let density = TransformedDensity(coordinates, transforms: coordinates.transforms)
            let toZ: ([Double]) throws -> [Double] = { w in
                guard let z = coordinates.constrained(w) else {
                    throw LensInferenceError.invalidLens(lens: lens.id, reason: "a stage-1 draw left the interim log M_h box")
                }
                return z
            }
            return try sampleLens(index: index, stream: stream, lens: lens, c: c, density: density, start: start, y0: density.unconstrain(w0),
                                  logInterim: posterior.logInterimDensity, toZ: toZ,
                                  conditional: conditional(coordinates, toZ: toZ))
        }
        let density = TransformedDensity(posterior, transforms: posterior.transforms)
        return try sampleLens(index: index, stream: stream, lens: lens, c: c, density: density, start: start, y0: density.unconstrain(start),
                              logInterim: posterior.logInterimDensity, toZ: { $0 }, conditional: conditional(posterior, toZ: { $0 }))
    }

    /// NUTS on one lens's density `density` from y0 (its unconstrained start); each draw w (constrained sampling
    /// coordinates) mapped to z by `toZ`, and the draws' α conditionals computed by `conditional` where given.
    static func sampleLens<D: LogDensity>(index: Int, stream: UInt64, lens: MockLens, c: InferConfiguration, density: TransformedDensity<D>,
                                          start: [Double], y0: [Double], logInterim: Double,
                                          toZ: ([Double]) throws -> [Double],
                                          conditional: (([[Double]]) throws -> AlphaConditional)?) throws -> LensSamples {
        var inverseMetric: Matrix? = nil
        // Hessian by differences of the finite-difference gradient: a step (1e-3 relative) well above the gradient's
        // own steps (1e-5, 1e-6), or the Hessian is mostly the gradient's rounding noise.
        if let cov = try? laplaceCovariance(density, at: y0, relativeStep: 1e-3), cov.values.allSatisfy(\.isFinite) {
            inverseMetric = cov
        }
        var nuts = NUTS(maxTreeDepth: c.lensMaxTreeDepth, targetAcceptance: 0.8, initialStepSize: 0.5)
        if c.lensWarmup < 150 {  // short warm-ups: one metric window after a short initial buffer
            nuts.initialBuffer = max(c.lensWarmup / 5, 1)
            nuts.terminalBuffer = max(c.lensWarmup / 5, 1)
            nuts.baseWindow = max(c.lensWarmup - nuts.initialBuffer - nuts.terminalBuffer, 1)
        }
        let result = try nuts.sample(density, initial: y0, warmup: c.lensWarmup, draws: c.lensDraws, seed: c.seed,
                                     chain: stream, metric: .dense, initialInverseMetric: inverseMetric)
        let sampling = result.draws.map { density.constrain($0) }
        let draws = try sampling.map(toZ)
        let alpha = draws.map { $0[6] }, mass = draws.map { $0[0] }
        return LensSamples(index: index, id: lens.id, logMsps: lens.logMsps, start: start, draws: draws,
                           logInterim: logInterim, stepSize: result.stepSize,
                           divergences: result.divergences, meanAcceptStat: result.meanAcceptStat,
                           rHatAlpha: finite(Diagnostics.splitRHat([alpha])), rHatLogHaloMass: finite(Diagnostics.splitRHat([mass])),
                           essAlpha: finite(Diagnostics.splitEffectiveSampleSize([alpha])),
                           alphaConditional: try conditional?(sampling))
    }

    /// Random streams of refinement round k's lens chains: lens i's is `i + k · refinementStream`.
    public static let refinementStream: UInt64 = 10_000_000

    /// The lenses a refinement round samples again: first those whose chains mixed poorly (`poorlyMixed`: their
    /// Monte Carlo variance cannot show what they did not visit); then, from each lens's Monte Carlo variance of
    /// ln L̂_i at the median η (`ReweightedPopulation.monteCarloVariances`), a lens with none finite (no weight
    /// there), and, when the finite ones sum to V above `target`, the largest in order until they hold 2(V − target)
    /// of it (another chain of the same length about halves a lens's variance), or 80% of V where that is less:
    /// the variance is carried by a few lenses (on the recovery mocks the largest of 25 held 0.3–0.6 of 0.3–1.4, the
    /// median lens 0.007), and a chain for each of the rest would cost a full stage 1 for little.
    public static func refinementPicks(variances: [Double], target: Double, poorlyMixed: [Int] = []) -> [Int] {
        let total = variances.reduce(0) { $0 + ($1.isFinite ? $1 : 0) }
        var picks = poorlyMixed
        picks += variances.indices.filter { !variances[$0].isFinite && !picks.contains($0) }
        guard total > target else { return picks }
        var held = picks.reduce(0) { $0 + (variances[$1].isFinite ? variances[$1] : 0) }
        for i in variances.indices.filter({ variances[$0].isFinite && variances[$0] > 0 }).sorted(by: { variances[$0] > variances[$1] }) {
            if held >= min(2 * (total - target), 0.8 * total) { break }
            if picks.contains(i) { continue }
            picks.append(i)
            held += variances[i]
        }
        return picks
    }

    /// The lens's samples with another chain's (`extra`, from a refinement round) appended: draws and kept
    /// conditionals concatenated, divergences summed, split R̂ and ESS of α over all its chains (`first` may hold
    /// several from earlier rounds; every chain has `extra`'s length, lens_draws, so it is cut into pieces of that).
    public static func merged(_ first: LensSamples, _ extra: LensSamples) -> LensSamples {
        var out = first
        out.draws += extra.draws
        let length = max(extra.draws.count, 1)
        let pieces = stride(from: 0, to: out.draws.count, by: length).map { Array(out.draws[$0..<min($0 + length, out.draws.count)]) }
        func column(_ k: Int) -> [[Double]] { pieces.map { $0.map { $0[k] } } }
        out.divergences += extra.divergences
        out.abandonedStart = first.abandonedStart ?? extra.abandonedStart
        out.meanAcceptStat = (first.meanAcceptStat * Double(first.draws.count) + extra.meanAcceptStat * Double(extra.draws.count))
            / Double(max(out.draws.count, 1))
        out.rHatAlpha = finite(Diagnostics.splitRHat(column(6)))
        out.rHatLogHaloMass = finite(Diagnostics.splitRHat(column(0)))
        out.essAlpha = finite(Diagnostics.splitEffectiveSampleSize(column(6)))
        if var conditional = first.alphaConditional, let more = extra.alphaConditional {
            conditional.draws += more.draws
            conditional.samplingDraws += more.samplingDraws
            conditional.logConditional += more.logConditional
            conditional.logHaloMass += more.logHaloMass
            out.alphaConditional = conditional
        }
        return out
    }

    /// The stage-2 density's inputs from the stage-1 results.
    /// With `alpha_marginal: conditional` every lens needs its `alphaConditional` (a lens file saved by a kernel run
    /// has none: an error naming it).
    public static func population(_ lenses: [LensSamples], selection: (any SelectionNormalisation)?, c: InferConfiguration) throws -> ReweightedPopulation {
        try ReweightedPopulation(
            lenses: lenses.map {
                if c.alphaMarginal == "conditional" {
                    guard let conditional = $0.alphaConditional else {
                        throw InferInputError(file: "lens \($0.id)", message: "its stage-1 result has no α conditionals "
                            + "(saved by a run with alpha_marginal: kernel); set alpha_marginal: kernel or sample it again")
                    }
                    return ReweightedPopulation.Lens(id: $0.id, logMsps: $0.logMsps, conditional: conditional, logInterim: $0.logInterim)
                }
                return ReweightedPopulation.Lens(id: $0.id, logMsps: $0.logMsps, logHaloMass: $0.draws.map { $0[0] },
                                                 alpha: $0.draws.map { $0[6] },
                                                 logInterim: [Double](repeating: $0.logInterim, count: $0.draws.count))
            },
            selection: selection, alphaKernelWidth: c.alphaKernelWidth, base: PopulationHyperparameters())
    }

    /// Stage 3's parameters of lens `lens` for its pick `j` at η: the stage-1 draw itself (kernel), or the pick's
    /// slice at α = α_sps (conditional; see `AlphaConditional.parameters`).
    /// - Throws: where the pick's slice has no support at α_sps (a pick with zero weight: not drawn by
    ///   `conditionalIndices`).
    public static func lensDraw(_ samples: LensSamples, _ lens: ReweightedPopulation.Lens, pick j: Int, eta: [Double]) throws -> [Double] {
        guard let conditional = lens.conditional else { return samples.draws[j] }
        guard let z = conditional.parameters(j, alpha: eta[0]) else {
            throw InferInputError(file: "lens \(lens.id)", message: "stage 3 picked kept draw \(j), whose α slice has no support at α_sps = \(eta[0])")
        }
        return z
    }

    /// The hyperprior box: the range of the selection normalisation (grid or file) in each inferred coordinate;
    /// the configured `selection_axes` when the population has no selection term.
    public static func box(_ population: ReweightedPopulation, c: InferConfiguration) -> (lower: [Double], upper: [Double]) {
        population.selection?.box ?? (c.selectionAxes.map { $0.first! }, c.selectionAxes.map { $0.last! })
    }

    /// Random starts tried per η chain before it fails.
    public static let startTries = 200

    /// One stage-2 chain.
    public struct EtaChain: Codable, Sendable, Equatable {
        public var chain: Int
        public var start: [Double]
        /// η draws (columns `etaNames`).
        public var draws: [[Double]]
        /// ln p(η | data) at each draw (constrained; without the box's constant; finite inside the box).
        public var logPosterior: [Double]
        public var stepSize: Double
        public var divergences: Int
        public var meanAcceptStat: Double
    }

    /// Stage 2, chain `chain`: NUTS over η in the box's logistic coordinates, from a start drawn uniformly in the
    /// central 80% of the box (dispersed across chains), drawn again (up to `startTries` times) where ln p(η) is not
    /// finite: with α conditionals a lens's posterior is zero at an α_sps no kept draw's slice reaches (the slices end
    /// where the model gains or loses images), so the finite region can be a narrow band of α_sps.
    public static func sampleEta(chain: Int, population: ReweightedPopulation, c: InferConfiguration) throws -> EtaChain {
        let (lower, upper) = box(population, c: c)
        let transforms = (0..<4).map { ParameterTransform.interval(lower: lower[$0], upper: upper[$0]) }
        let base = ClosureDensity(dimension: 4) { eta in
            do { return try population.logDensityAndGradient(eta) } catch { return (-.infinity, [0, 0, 0, 0]) }
        }
        let density = TransformedDensity(base, transforms: transforms)
        var rng = RandomSource(seed: c.seed, stream: 1_000_000 + UInt64(chain))
        var start: [Double] = [], found = false
        for _ in 0..<startTries where !found {
            start = (0..<4).map { k in lower[k] + (0.1 + 0.8 * rng.uniform()) * (upper[k] - lower[k]) }
            if let v = try? base.logDensityAndGradient(start), v.value.isFinite, v.gradient.allSatisfy(\.isFinite) { found = true }
        }
        guard found else {
            // Where the lenses' supported α ranges share nothing, no start can exist: say so, with the ranges.
            let ranges = population.lenses.compactMap { lens in lens.conditional.map { (lens.id, $0.supportedAlpha) } }
            let shared = ranges.reduce(Optional(lower[0]...upper[0])) { acc, r in
                guard let acc, let s = r.1, s.lowerBound <= acc.upperBound, s.upperBound >= acc.lowerBound else { return nil }
                return max(acc.lowerBound, s.lowerBound)...min(acc.upperBound, s.upperBound)
            }
            let narrow = ranges.sorted { ($0.1.map { $0.upperBound - $0.lowerBound } ?? 0) < ($1.1.map { $0.upperBound - $0.lowerBound } ?? 0) }
                .prefix(3).map { "\($0.0) α \($0.1.map { String(format: "%.2f–%.2f", $0.lowerBound, $0.upperBound) } ?? "none")" }
            let hint: String
            if shared == nil {
                hint = "no α_sps in the box is reached by every lens's slices (narrowest: \(narrow.joined(separator: ", "))): their "
                    + "stage-1 chains explored too little of α; start a new run with larger lens_warmup, lens_draws or "
                    + "lens_max_tree_depth"
            } else {
                let zero = population.lenses.filter { lens in
                    !(lens.conditional.map { cond in cond.draws.indices.contains { cond.interpolate($0, alpha: start[0]) != nil } } ?? true)
                }.map(\.id)
                hint = "the α slices of lenses \(zero) have no support there"
            }
            throw InferInputError(file: "chain \(chain)", message: "no start with a finite ln p(η) in \(startTries) draws of the "
                + "hyperprior box; at the last, α_sps = \(start[0]); \(hint)")
        }
        let nuts = NUTS(maxTreeDepth: 8, targetAcceptance: 0.8, initialStepSize: 0.5)
        let result = try nuts.sample(density, initial: density.unconstrain(start), warmup: c.warmup, draws: c.draws,
                                     seed: c.seed, chain: 1_000_000 + UInt64(chain))
        let draws = result.draws.map { density.constrain($0) }
        let logPosterior = try draws.map { eta in
            let v = try population.logDensityAndGradient(eta).value
            guard v.isFinite else { throw InferInputError(file: "chain \(chain)", message: "ln p(η) is not finite at the draw \(eta)") }
            return v
        }
        return EtaChain(chain: chain, start: start, draws: draws, logPosterior: logPosterior, stepSize: result.stepSize,
                        divergences: result.divergences, meanAcceptStat: result.meanAcceptStat)
    }

    /// Stage 3: for every draw of chain `chain`, one stage-1 sample of each lens drawn with its importance weights at
    /// that η — a draw from the lens's conditional posterior p(θ_i | η, data). Returns [draw][lens] sample indices.
    /// - Throws: `InferInputError` naming the chain, the draw and the lens where a lens has no weight at an η draw
    ///   (a chain's draws have finite ln p(η), so every lens has weight there; this guards saved chains).
    public static func conditionalIndices(chain: EtaChain, population: ReweightedPopulation, seed: UInt64) throws -> [[Int]] {
        var rng = RandomSource(seed: seed, stream: 2_000_000 + UInt64(chain.chain))
        return try chain.draws.enumerated().map { d, eta in
            try population.lenses.indices.map { i in
                guard let w = population.weights(lens: i, eta: eta) else {
                    throw InferInputError(file: "chain \(chain.chain)", message: "lens \(population.lenses[i].id) has no weight at draw \(d), η = \(eta)")
                }
                var u = rng.uniform()
                for (j, p) in w.enumerated() {
                    if u < p { return j }
                    u -= p
                }
                // Rounding left u ≥ 0 after the last weight: the last sample with weight.
                return w.lastIndex { $0 > 0 } ?? w.count - 1
            }
        }
    }
}

/// nil for NaN or ±∞ (JSON has no such numbers).
func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
