import RealModule
import TesseraSupport

/// The hyperparameters η of a strong-lens population and the fixed survey settings a mock is observed with.
///
/// Conventions (all logarithms base 10; masses in M☉ without h; radii in physical kpc; angles in arcsec):
/// - log M_sps ~ N(`logMspsMean`, `logMspsSigma`): the stellar mass a stellar-population fit would report.
/// - M* = α_sps · M_sps (`alphaSPS`, the IMF mismatch).
/// - log M_h = `haloNormalisation` + `haloSlope` (log M* − `pivotLogMass`) + N(0, `haloScatter`), M_h = M₂₀₀c.
/// - log R_e = `sizeNormalisation` + `sizeSlope` (log M_sps − `pivotLogMass`) + N(0, `sizeScatter`). The size
///   relation is written against the *observable* M_sps, not M*: R_e is measured, and a relation in M* would let
///   the sizes alone measure α_sps, which is not the information a lens survey has.
/// - The four hyperparameters a hierarchical fit infers are `inferred`: (α_sps, halo slope, halo normalisation,
///   halo scatter). The others are part of η but held fixed by the likelihood here.
public struct PopulationHyperparameters: Codable, Sendable, Equatable {
    public var logMspsMean: Double = 11.4
    public var logMspsSigma: Double = 0.15
    public var alphaSPS: Double = 1.2
    public var haloSlope: Double = 1.5
    public var haloNormalisation: Double = 13.0
    public var haloScatter: Double = 0.15
    public var sizeNormalisation: Double = 0.75
    public var sizeSlope: Double = 0.6
    public var sizeScatter: Double = 0.1
    /// log M at which the halo and size relations take their normalisation [log M☉].
    public var pivotLogMass: Double = 11.5

    public init() {}

    /// (α_sps, halo slope, halo normalisation, halo scatter): the coordinates of the selection table A(η).
    public var inferred: [Double] {
        get { [alphaSPS, haloSlope, haloNormalisation, haloScatter] }
        set {
            precondition(newValue.count == 4, "inferred has 4 components")
            (alphaSPS, haloSlope, haloNormalisation, haloScatter) = (newValue[0], newValue[1], newValue[2], newValue[3])
        }
    }

    /// Mean log M_h at log M_sps for this η [log M☉].
    public func meanLogHaloMass(logMsps: Double) -> Double {
        haloNormalisation + haloSlope * (logMsps + Double.log10(alphaSPS) - pivotLogMass)
    }

    /// Mean log R_e [log kpc] at log M_sps.
    public func meanLogEffectiveRadius(logMsps: Double) -> Double {
        sizeNormalisation + sizeSlope * (logMsps - pivotLogMass)
    }

    /// Throws for a non-finite value or a non-positive width or α_sps.
    public func validate() throws(LensInferenceError) {
        for (v, n) in [(logMspsMean, "logMspsMean"), (haloSlope, "haloSlope"), (haloNormalisation, "haloNormalisation"),
                       (sizeNormalisation, "sizeNormalisation"), (sizeSlope, "sizeSlope"), (pivotLogMass, "pivotLogMass")] {
            try requireFinite(v, n)
        }
        for (v, n) in [(logMspsSigma, "logMspsSigma"), (alphaSPS, "alphaSPS"), (haloScatter, "haloScatter"),
                       (sizeScatter, "sizeScatter")] {
            try requirePositive(v, n)
        }
    }
}

/// How a mock population is observed and selected; fixed (not inferred), and part of what A(η) is computed for.
///
/// - Redshifts: z_l ~ U(`lensRedshiftRange`), z_s ~ U(`sourceRedshiftRange`); the ranges must not overlap.
/// - External shear components ~ N(0, `shearSigma`) each.
/// - Source positions are uniform in a disc of radius `sourceRadius` [arcsec] about the lens centre: the fixed
///   "area of sky per source" against which the selection fraction A(η) is a probability.
/// - Intrinsic (unlensed) source flux: log F_s ~ N(`logSourceFluxMean`, `logSourceFluxSigma`), flux units are the
///   caller's (e.g. nJy); `sourceSize` is the source radius in microlens Einstein radii (the table's size axis).
/// - Observation: every image position gets Gaussian noise of `positionError` [arcsec] per axis; every image flux
///   (macro-model flux F_s |μ| times its microlensing factor) gets Gaussian noise of σ_F = `fluxErrorFraction` ×
///   F_s |μ|, the flux without microlensing, and σ_F is reported with it (`observedFlux`). Not × the microlensed
///   flux: a reported σ_F proportional to the microlensing factor tells the factor, which the likelihood (fixed σ_F,
///   factor marginalised over the table's PDF) does not model; with it, the likelihood's score in log F_s at the
///   truth had mean −3σ on redrawn data (`tessera-bench lens-score`), i.e. the data were not its sampling density.
/// - Selection: the central (maximum) image is never detected (it is demagnified by orders of magnitude for these
///   cuspy profiles); a lens is selected when it has at least two other images, every one of them with observed
///   flux ≥ `fluxLimit`, and its largest image separation ≥ `minSeparation` [arcsec]. With
///   `rejectOutsideTable`, a lens with an image outside the microlensing table counts as not selected (a
///   documented extra cut, applied identically when A(η) is estimated); otherwise such a lens is an error.
public struct SurveySettings: Codable, Sendable, Equatable {
    public var lensRedshiftRange: ClosedRange<Double> = 0.3...0.6
    public var sourceRedshiftRange: ClosedRange<Double> = 1.5...2.5
    public var shearSigma: Double = 0.05
    public var sourceRadius: Double = 0.6
    public var logSourceFluxMean: Double = 2.0
    public var logSourceFluxSigma: Double = 0.2
    public var sourceSize: Double = 0.0
    public var positionError: Double = 0.005
    public var fluxErrorFraction: Double = 0.05
    public var fluxLimit: Double = 50
    public var minSeparation: Double = 0.5
    public var rejectOutsideTable: Bool = true

    public init() {}

    /// An image's recorded flux and its error for a macro-model flux `macroFlux` (F_s |μ|) and microlensing factor
    /// `microlensingFactor`: σ_F = `fluxErrorFraction` × `macroFlux`, flux = `macroFlux` × factor + σ_F ε (one normal
    /// deviate from `rng`).
    public func observedFlux(macroFlux: Double, microlensingFactor: Double, rng: inout RandomSource) -> (flux: Double, error: Double) {
        let sigma = fluxErrorFraction * macroFlux
        return (macroFlux * microlensingFactor + sigma * rng.normal(), sigma)
    }

    public func validate() throws(LensInferenceError) {
        guard lensRedshiftRange.lowerBound > 0, lensRedshiftRange.upperBound < sourceRedshiftRange.lowerBound else {
            throw .invalidParameter(name: "sourceRedshiftRange", value: sourceRedshiftRange.lowerBound,
                                    allowed: "> lensRedshiftRange upper bound (\(lensRedshiftRange.upperBound)) and z_l > 0")
        }
        for (v, n) in [(shearSigma, "shearSigma"), (sourceRadius, "sourceRadius"), (logSourceFluxSigma, "logSourceFluxSigma"),
                       (positionError, "positionError"), (fluxErrorFraction, "fluxErrorFraction")] {
            try requirePositive(v, n)
        }
        try requireFinite(logSourceFluxMean, "logSourceFluxMean")
        guard sourceSize.isFinite, sourceSize >= 0 else { throw .invalidParameter(name: "sourceSize", value: sourceSize, allowed: ">= 0") }
        guard fluxLimit.isFinite, fluxLimit >= 0 else { throw .invalidParameter(name: "fluxLimit", value: fluxLimit, allowed: ">= 0") }
        guard minSeparation.isFinite, minSeparation >= 0 else {
            throw .invalidParameter(name: "minSeparation", value: minSeparation, allowed: ">= 0")
        }
    }
}

