import Inference
import RealModule

/// The hierarchical log-density of the four inferred hyperparameters η = (α_sps, halo slope, halo normalisation,
/// halo scatter) from each lens's posterior samples drawn under a broad interim prior — the importance-reweighting
/// estimate of Hogg, Myers & Bovy (2010) — with the selection term −N ln A(η).
///
/// Stage 1 (`LensInterimPosterior`) samples each lens's z = (log M_h, γ₁, γ₂, β_x, β_y, log F_s, α_i) under an
/// interim prior that is uniform in log M_h and α_i over boxes and equal to the population prior in the other
/// coordinates (shear, source position and flux do not depend on η, so they cancel). Then, with S samples z_ij,
///
///     ln L_i(η) ≈ ln (1/S) Σ_j w_ij(η),   w_ij = K_h(α_ij − α_sps) · N(log M_h,ij; μ(α_ij), σ_h) / π_int(log M_h,ij, α_ij),
///     μ(α) = norm + slope (log M_sps,i + log10 α − pivot),
///     ln p(η | data) = Σ_i ln L_i(η) − N ln A(η) + ln p(η).
///
/// α_sps is a population constant in the mocks; a lens's α_i cannot be reweighted onto a point, so the population
/// model here gives each lens α_i ~ N(α_sps, h) with a small fixed width h (`alphaKernelWidth`; the lens's own
/// M* = α_i M_sps then sets its halo mean). As h → 0 this is the constant-α model; the extra width adds h² to each
/// lens's (much broader) α variance, a bias of order h² in the population estimate. The price of a small h is
/// fewer samples near α_sps: `effectiveSampleSizes` reports Kish's (Σw)²/Σw² per lens at an η, which a run prints.
/// The hyperprior ln p(η) is the caller's (a runner uses a box, uniform).
///
/// Lenses given an `AlphaConditional` (the default of `tessera infer`, `alpha_marginal: conditional`) need no h:
/// their weights use each kept draw's conditional density of α at α_sps (see `logWeights(_:_:_:gradients:)`), the
/// constant-α model itself.
///
/// Gradients: all analytic here (∂ ln w_ij / ∂η below, combined through the per-lens softmax); ln A(η) through
/// `SelectionTable.logAWithGradient` (exact for the multilinear interpolant, piecewise constant). The only finite
/// differences of the whole run are stage 1's lens-likelihood gradients (see `LensInterimPosterior`).
public struct ReweightedPopulation: Sendable {
    /// One lens's stage-1 samples: only what the weights need.
    public struct Lens: Sendable, Codable, Equatable {
        public var id: String
        /// log10 M_sps [M☉] (data).
        public var logMsps: Double
        /// log10 M₂₀₀c [M☉] and α_i of each sample.
        public var logHaloMass: [Double]
        public var alpha: [Double]
        /// ln π_int(log M_h, α) of each sample (the interim density in these two coordinates).
        public var logInterim: [Double]
        /// Each sample's conditional density of α (`AlphaConditional`): where present, the weights take the lens's
        /// posterior at α = α_sps from it instead of the α kernel, and the samples above are its kept draws.
        public var conditional: AlphaConditional?

        public init(id: String, logMsps: Double, logHaloMass: [Double], alpha: [Double], logInterim: [Double]) {
            precondition(logHaloMass.count == alpha.count && alpha.count == logInterim.count && !alpha.isEmpty,
                         "one log M_h, α and interim density per sample, at least one sample")
            self.id = id
            self.logMsps = logMsps
            self.logHaloMass = logHaloMass
            self.alpha = alpha
            self.logInterim = logInterim
        }

        /// A lens whose weights come from its draws' α conditionals; ln π_int is the interim density (uniform boxes).
        public init(id: String, logMsps: Double, conditional: AlphaConditional, logInterim: Double) {
            precondition(!conditional.draws.isEmpty, "at least one kept draw")
            self.init(id: id, logMsps: logMsps, logHaloMass: conditional.draws.map { $0[0] }, alpha: conditional.draws.map { $0[6] },
                      logInterim: [Double](repeating: logInterim, count: conditional.draws.count))
            self.conditional = conditional
        }
    }

    public var lenses: [Lens]
    /// ln A(η); nil leaves the selection term out (the estimate is then biased by selection).
    public var selection: (any SelectionNormalisation)?
    /// h: the width of the per-lens α_i about α_sps (see the type doc).
    public var alphaKernelWidth: Double
    /// Supplies the pivot mass and the fixed (not inferred) hyperparameters; its four inferred values are ignored.
    public var base: PopulationHyperparameters

    public init(lenses: [Lens], selection: (any SelectionNormalisation)?, alphaKernelWidth: Double,
                base: PopulationHyperparameters) throws(LensInferenceError) {
        try requirePositive(alphaKernelWidth, "alphaKernelWidth")
        self.lenses = lenses
        self.selection = selection
        self.alphaKernelWidth = alphaKernelWidth
        self.base = base
    }

    /// ln w_ij(η) and its gradient with respect to the inferred four, for every sample of lens `i`.
    func logWeights(_ lens: Lens, _ eta: [Double], gradients: Bool) -> (logW: [Double], grad: [[Double]]) {
        if let conditional = lens.conditional { return logWeights(lens, conditional, eta, gradients: gradients) }
        let (alphaSPS, slope, norm, scatter) = (eta[0], eta[1], eta[2], eta[3])
        let h = alphaKernelWidth
        let kernelNorm = Double.log(h * Double.sqrt(2 * Double.pi)), haloNorm = Double.log(scatter * Double.sqrt(2 * Double.pi))
        var logW = [Double](repeating: 0, count: lens.alpha.count)
        var grad: [[Double]] = gradients ? [[Double]](repeating: [0, 0, 0, 0], count: lens.alpha.count) : []
        for j in lens.alpha.indices {
            let a = lens.alpha[j]
            let da = (a - alphaSPS) / h
            let x = lens.logMsps + Double.log10(a) - base.pivotLogMass
            let r = lens.logHaloMass[j] - (norm + slope * x)
            let u = r / scatter
            logW[j] = -0.5 * da * da - kernelNorm - 0.5 * u * u - haloNorm - lens.logInterim[j]
            if gradients {
                let dMean = u / scatter
                grad[j] = [da / h, dMean * x, dMean, (u * u - 1) / scatter]
            }
        }
        return (logW, grad)
    }

    /// The weights of a lens with α conditionals (`AlphaConditional`): with p_j(α) = p_i(α | r_j) and m_j(α) the
    /// log M_h of draw j's slice, both interpolated at α_sps,
    ///
    ///     w_ij = p_j(α_sps) · N(m_j(α_sps); μ(α_sps), σ_h) / π_int,
    ///
    /// the lens's posterior at α_sps times the population's halo density there, with no kernel in α. A draw whose
    /// slice has no support at α_sps has weight 0 (ln w = −∞).
    func logWeights(_ lens: Lens, _ conditional: AlphaConditional, _ eta: [Double], gradients: Bool) -> (logW: [Double], grad: [[Double]]) {
        let (alphaSPS, slope, norm, scatter) = (eta[0], eta[1], eta[2], eta[3])
        let haloNorm = Double.log(scatter * Double.sqrt(2 * Double.pi))
        let x = lens.logMsps + Double.log10(alphaSPS) - base.pivotLogMass
        let dxdalpha = 1 / (alphaSPS * Double.log(10))
        var logW = [Double](repeating: -.infinity, count: conditional.draws.count)
        var grad: [[Double]] = gradients ? [[Double]](repeating: [0, 0, 0, 0], count: conditional.draws.count) : []
        for j in conditional.draws.indices {
            guard let at = conditional.interpolate(j, alpha: alphaSPS) else { continue }
            let u = (at.logHaloMass - (norm + slope * x)) / scatter
            logW[j] = at.logP - 0.5 * u * u - haloNorm - lens.logInterim[j]
            if gradients {
                let dMean = u / scatter
                grad[j] = [at.dLogP - dMean * (at.dLogHaloMass - slope * dxdalpha), dMean * x, dMean, (u * u - 1) / scatter]
            }
        }
        return (logW, grad)
    }

    /// Σ_i ln L_i(η) − N ln A(η) and its gradient with respect to (α_sps, slope, normalisation, scatter).
    /// −∞ (gradient zeros) where a lens has no sample with a finite weight or η has scatter ≤ 0.
    /// - Throws: `.invalidParameter` where η is outside the selection table.
    public func logDensityAndGradient(_ eta: [Double]) throws(LensInferenceError) -> (value: Double, gradient: [Double]) {
        precondition(eta.count == 4, "η has 4 inferred components")
        guard eta[3] > 0, eta[0] > 0 else { return (-.infinity, [0, 0, 0, 0]) }
        var total = 0.0, gradient = [0.0, 0.0, 0.0, 0.0]
        for lens in lenses {
            let (logW, grad) = logWeights(lens, eta, gradients: true)
            guard let m = logW.max(), m.isFinite else { return (-.infinity, [0, 0, 0, 0]) }
            var sum = 0.0, g = [0.0, 0.0, 0.0, 0.0]
            for j in logW.indices where logW[j] > -.infinity {
                let e = Double.exp(logW[j] - m)
                sum += e
                for k in 0..<4 { g[k] += e * grad[j][k] }
            }
            total += m + Double.log(sum) - Double.log(Double(logW.count))
            for k in 0..<4 { gradient[k] += g[k] / sum }
        }
        if let sel = selection {
            var p = base
            p.inferred = eta
            let (lnA, dlnA) = try sel.logAWithGradient(p)
            total -= Double(lenses.count) * lnA
            for k in 0..<4 { gradient[k] -= Double(lenses.count) * dlnA[k] }
        }
        return (total, gradient)
    }

    /// Lens `i`'s normalised importance weights at η: the probabilities of drawing each of its stage-1 samples
    /// from its conditional posterior given η (stage 3 of a run). nil where no sample has weight at η (the lens's
    /// density is zero there, e.g. an α_sps none of its conditionals reaches): there is nothing to draw from.
    public func weights(lens i: Int, eta: [Double]) -> [Double]? {
        let logW = logWeights(lenses[i], eta, gradients: false).logW
        guard let m = logW.max(), m.isFinite else { return nil }
        let e = logW.map { Double.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// Each lens's Monte Carlo variance of ln L̂_i(η), the stage-2 estimate ln (1/S) Σ_j w_ij: var(w) / (ESS_w w̄²),
    /// ESS_w the split effective sample size of the weights in draw order (the kept draws are a thinned chain, or
    /// a lens's chains one after another: the autocorrelation and the chains' disagreement both count, where Kish's
    /// (Σw)²/Σw² sees neither); +∞ for a lens with no weight at η.
    ///
    /// Their sum is the variance of the whole ln p̂(η | data) from stage 1's finite samples. When it is above ~1
    /// the η posterior moves by about its own width between two stage-1 runs, so its intervals are too narrow
    /// (Talbot & Golomb 2023, "Growing pains"). On the recovery mocks (25 lenses each, 100 kept draws per lens;
    /// ten batch means, `infer_stage2_check.py`) the sum at the median η was 0.23–0.81 at N = 25, 0.49–1.44 at
    /// N = 50 and 1.14–1.59 at N = 100, and the 68% coverage of α_sps fell from 0.67 (12 mocks) to 0.33 (3).
    /// A chain that never left one region has nearly equal weights and a small variance here: what it did not
    /// visit cannot show; a poorly mixed chain (R̂ and ESS of α, `InferReport.poorlyMixedLenses`) is the other signal.
    public func monteCarloVariances(eta: [Double]) -> [Double] {
        lenses.indices.map { i in
            let logW = logWeights(lenses[i], eta, gradients: false).logW
            guard let m = logW.max(), m.isFinite, logW.count >= 4 else { return .infinity }
            let w = logW.map { Double.exp($0 - m) }
            let mean = w.reduce(0, +) / Double(w.count)
            let variance = w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(w.count - 1)
            guard variance > 0 else { return 0 }
            let ess = Diagnostics.splitEffectiveSampleSize([w])
            guard ess.isFinite, ess > 0 else { return .infinity }
            return variance / (ess * mean * mean)
        }
    }

    /// Kish's effective sample size (Σw)²/Σw² of each lens's weights at η; 0 for a lens with no weight there.
    public func effectiveSampleSizes(eta: [Double]) -> [Double] {
        lenses.indices.map { i in
            guard let w = weights(lens: i, eta: eta) else { return 0 }
            return 1 / w.reduce(0) { $0 + $1 * $1 }
        }
    }
}
