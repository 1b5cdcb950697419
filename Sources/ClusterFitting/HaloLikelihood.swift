import Foundation
import HaloProfiles
import Inference

/// A mass–concentration relation c(M, z).
public enum ConcentrationRelation: Sendable, Equatable {
    /// Duffy et al. (2008, MNRAS 390, L64), full sample, NFW, Δ = 200c:
    /// c₂₀₀c = 5.71 (M₂₀₀c / (2×10¹² h⁻¹ M☉))^−0.084 (1 + z)^−0.47,
    /// with M₂₀₀c in M☉ (converted to h⁻¹M☉ with h = H0/100 from the cosmology).
    case duffy2008
    /// A constant concentration.
    case constant(Double)

    /// c for mass `mass` [M☉] at redshift `z`.
    public func concentration(mass: Double, redshift z: Double, cosmology: Cosmology) -> Double {
        switch self {
        case .duffy2008:
            return 5.71 * Foundation.pow(mass * cosmology.h / 2e12, -0.084) * Foundation.pow(1 + z, -0.47)
        case let .constant(c): return c
        }
    }
}

/// Prior on log10 M₂₀₀c [M☉]. Always truncated to [lower, upper]; log p = −∞ outside.
public enum MassPrior: Sendable, Equatable {
    /// Flat in log10 M on [lower, upper].
    case flat(lower: Double, upper: Double)
    /// Gaussian N(mean, sigma²) in log10 M, truncated to [lower, upper].
    case gaussian(mean: Double, sigma: Double, lower: Double, upper: Double)

    public var bounds: (lower: Double, upper: Double) {
        switch self {
        case let .flat(l, u): return (l, u)
        case let .gaussian(_, _, l, u): return (l, u)
        }
    }

    /// log prior (up to a constant) and its derivative.
    func logDensity(_ x: Double) -> (Double, Double) {
        let (l, u) = bounds
        guard x >= l, x <= u else { return (-.infinity, 0) }
        switch self {
        case .flat: return (0, 0)
        case let .gaussian(m, s, _, _): return (-0.5 * (x - m) * (x - m) / (s * s), -(x - m) / (s * s))
        }
    }
}

/// The posterior log-density of one halo's NFW parameters given its lensing observables.
///
/// Parameters θ = (log10 M, [log10 c]) with M the mass in `massDefinition` (default M₂₀₀c) in M☉.
/// When the concentration is not fitted it follows `concentrationRelation`. When fitted, log10 c
/// has a flat prior on `log10ConcentrationBounds`.
///
/// log p(θ) = Σ_obs log N(d | model(θ), C) + log prior(log10 M) [+ log prior(log10 c)]: any
/// combination of observables (ΔΣ, γ_t, g_t profiles, κ and Σ maps) enters as independent
/// Gaussian terms, each with its own covariance.
///
/// Gradient: by central finite differences of the log-likelihood with step `finiteDifferenceStep`
/// (default 1e-5 in dex); the prior's gradient is exact. (With only 1–2 parameters this costs
/// 2–4 extra model evaluations.)
public struct HaloLikelihood: LogDensity, Sendable {
    public let observables: [HaloObservable]
    public let redshift: Double
    public let cosmology: Cosmology
    public let massDefinition: MassDefinition
    public let fitConcentration: Bool
    public let concentrationRelation: ConcentrationRelation
    public let massPrior: MassPrior
    public let log10ConcentrationBounds: (lower: Double, upper: Double)
    public var finiteDifferenceStep: Double = 1e-5
    /// Lensing efficiency (Σ_crit,eff, ⟨β²⟩/⟨β⟩²) per observable, nil for ΔΣ and Σ maps.
    let efficiencies: [LensingEfficiency?]

    public var dimension: Int { fitConcentration ? 2 : 1 }

    public init(observables: [HaloObservable], redshift: Double, cosmology: Cosmology,
                massDefinition: MassDefinition = .critical200, fitConcentration: Bool = false,
                concentrationRelation: ConcentrationRelation = .duffy2008,
                massPrior: MassPrior = .flat(lower: 12, upper: 16),
                log10ConcentrationBounds: (lower: Double, upper: Double) = (0, 1.5)) throws {
        guard !observables.isEmpty else { throw ClusterFittingError.empty(field: "observables") }
        guard redshift.isFinite, redshift > 0 else {
            throw ClusterFittingError.invalidArgument(field: "redshift", reason: "must be finite and > 0 (got \(redshift))")
        }
        let (l, u) = massPrior.bounds
        guard l.isFinite, u.isFinite, l < u else {
            throw ClusterFittingError.invalidArgument(field: "massPrior", reason: "bounds must be finite with lower < upper")
        }
        if case let .gaussian(_, s, _, _) = massPrior, !(s > 0) {
            throw ClusterFittingError.invalidArgument(field: "massPrior", reason: "sigma must be > 0")
        }
        guard log10ConcentrationBounds.lower < log10ConcentrationBounds.upper else {
            throw ClusterFittingError.invalidArgument(field: "log10ConcentrationBounds", reason: "lower must be < upper")
        }
        var efficiencies: [LensingEfficiency?] = []
        for o in observables {
            try o.validate(lensRedshift: redshift)
            efficiencies.append(try o.kind.sources.map { try $0.efficiency(zLens: redshift, cosmology: cosmology) })
        }
        self.observables = observables
        self.redshift = redshift
        self.cosmology = cosmology
        self.massDefinition = massDefinition
        self.fitConcentration = fitConcentration
        self.concentrationRelation = concentrationRelation
        self.massPrior = massPrior
        self.log10ConcentrationBounds = log10ConcentrationBounds
        self.efficiencies = efficiencies
    }

    /// Concentration at θ.
    public func concentration(_ theta: [Double]) -> Double {
        if fitConcentration { return Foundation.pow(10, theta[1]) }
        return concentrationRelation.concentration(mass: Foundation.pow(10, theta[0]), redshift: redshift, cosmology: cosmology)
    }

    /// Model predictions for every observable at θ.
    public func model(_ theta: [Double]) throws -> [[Double]] {
        let nfw = try NFW(mass: Foundation.pow(10, theta[0]), concentration: concentration(theta), redshift: redshift,
                          massDefinition: massDefinition, cosmology: cosmology)
        return try observables.enumerated().map { k, o in try o.model(nfw, efficiency: efficiencies[k]) }
    }

    /// Σ log N(d | model(θ), C) (no prior).
    public func logLikelihood(_ theta: [Double]) throws -> Double {
        let m = try model(theta)
        var total = 0.0
        for (k, o) in observables.enumerated() { total += try o.logLikelihood(model: m[k]) }
        return total
    }

    func logPrior(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
        let (v, g) = massPrior.logDensity(theta[0])
        if fitConcentration {
            let inside = theta[1] >= log10ConcentrationBounds.lower && theta[1] <= log10ConcentrationBounds.upper
            return (inside ? v : -.infinity, [g, 0])
        }
        return (v, [g])
    }

    public func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
        guard x.count == dimension else { throw InferenceError.dimensionMismatch(expected: dimension, got: x.count) }
        let prior = logPrior(x)
        guard prior.value.isFinite, x.allSatisfy(\.isFinite) else { return (-.infinity, [Double](repeating: 0, count: dimension)) }
        let f0 = try logLikelihood(x)
        var grad = prior.gradient
        let h = finiteDifferenceStep
        for j in 0..<dimension {
            var xp = x, xm = x
            xp[j] += h
            xm[j] -= h
            grad[j] += (try logLikelihood(xp) - logLikelihood(xm)) / (2 * h)
        }
        return (f0 + prior.value, grad)
    }
}
