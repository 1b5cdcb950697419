import RealModule

/// The hierarchical log-density of a lens population: each lens's likelihood times its parameters' prior given
/// the hyperparameters η, divided by the selection normalisation A(η) once per lens.
///
///     ln p(η, {θ_i} | data) = Σ_i [ ln L_i(θ_i, α_sps) + ln p(θ_i | η) ] − N ln A(η) + ln p(η),
///
/// where A(η) is the probability that a lens drawn from η (with the survey's fixed settings) is selected
/// (`SelectionFunction`; a `SelectionNormalisation`: `SelectionTable` or `InterpolatedSelection`), and the hyperprior ln p(η) is the caller's. The population prior
/// p(θ_i | η) of one lens (its data fix log M_sps, R_e, z_l, z_s):
/// - log M_h ~ N(η.meanLogHaloMass(log M_sps), η.haloScatter) — this is where α_sps, the slope, normalisation and
///   scatter of the M_h–M* relation enter besides the lens model's own α_sps;
/// - shear components ~ N(0, survey.shearSigma); log F_s ~ N(survey.logSourceFluxMean, survey.logSourceFluxSigma);
/// - source position uniform in the disc of radius survey.sourceRadius (−∞ outside);
/// - plus the log M_sps and R_e terms, which do not depend on the four inferred hyperparameters (kept so the
///   density is a proper one for every η component).
///
/// Gradients: with respect to η, the prior terms are analytic (`logPriorGradient`); ln A(η) from the grid
/// `SelectionTable` is multilinear, its gradient piecewise constant (not provided), while the built
/// `InterpolatedSelection` is C² with an analytic `logAGradient`; the lens terms' gradients are finite differences
/// (`LensLikelihood.gradient`).
public struct PopulationLikelihood: Sendable {
    public var lenses: [LensLikelihood]
    public var survey: SurveySettings
    /// ln A(η); nil: no selection term (the population density is then biased by selection; say so when used).
    public var selection: (any SelectionNormalisation)?

    public init(lenses: [LensLikelihood], survey: SurveySettings, selection: (any SelectionNormalisation)?) {
        self.lenses = lenses
        self.survey = survey
        self.selection = selection
    }

    @inline(__always)
    static func logNormal(_ x: Double, _ mean: Double, _ sigma: Double) -> Double {
        let u = (x - mean) / sigma
        return -0.5 * u * u - Double.log(sigma * Double.sqrt(2 * Double.pi))
    }

    /// ln p(θ | η) for a lens with data `lens` (see the type doc).
    public func logPrior(_ p: LensParameters, lens: MockLens, eta: PopulationHyperparameters) -> Double {
        let r2 = p.sourceX * p.sourceX + p.sourceY * p.sourceY
        guard r2 <= survey.sourceRadius * survey.sourceRadius else { return -.infinity }
        var lp = -Double.log(Double.pi * survey.sourceRadius * survey.sourceRadius)
        lp += Self.logNormal(p.logHaloMass, eta.meanLogHaloMass(logMsps: lens.logMsps), eta.haloScatter)
        lp += Self.logNormal(p.shear1, 0, survey.shearSigma) + Self.logNormal(p.shear2, 0, survey.shearSigma)
        lp += Self.logNormal(p.logSourceFlux, survey.logSourceFluxMean, survey.logSourceFluxSigma)
        lp += Self.logNormal(lens.logMsps, eta.logMspsMean, eta.logMspsSigma)
        lp += Self.logNormal(lens.logEffectiveRadius, eta.meanLogEffectiveRadius(logMsps: lens.logMsps), eta.sizeScatter)
        return lp
    }

    /// ∂ ln p(θ | η) / ∂(α_sps, halo slope, halo normalisation, halo scatter), analytic.
    public func logPriorGradient(_ p: LensParameters, lens: MockLens, eta: PopulationHyperparameters) -> [Double] {
        let x = lens.logMsps + Double.log10(eta.alphaSPS) - eta.pivotLogMass
        let r = p.logHaloMass - eta.meanLogHaloMass(logMsps: lens.logMsps), s = eta.haloScatter
        let dMean = r / (s * s)  // ∂/∂mean
        return [dMean * eta.haloSlope / (eta.alphaSPS * Double.log(10)), dMean * x, dMean, (r * r / (s * s) - 1) / s]
    }

    /// The hierarchical log-density (without the hyperprior) at η and one parameter set per lens.
    /// - Throws: `LensInferenceError.outsideTable` from a lens; `.invalidParameter` if η is outside the selection table.
    public func logDensity(eta: PopulationHyperparameters, parameters: [LensParameters], microlensing: Bool = true) throws -> Double {
        precondition(parameters.count == lenses.count, "one LensParameters per lens")
        var total = 0.0
        for (l, p) in zip(lenses, parameters) {
            let prior = logPrior(p, lens: l.lens, eta: eta)
            if !prior.isFinite { return -.infinity }
            total += prior + (try l.logLikelihood(p, alphaSPS: eta.alphaSPS, microlensing: microlensing))
        }
        if let sel = selection { total -= Double(lenses.count) * (try sel.logA(eta)) }
        return total
    }
}
