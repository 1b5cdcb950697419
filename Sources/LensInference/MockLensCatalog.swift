/// A mock strong-lens catalog as a Codable value: what an observer has for each lens (redshifts, M_sps, R_e,
/// image positions and fluxes with errors) and, separately, the truth it was drawn from.
///
/// Units: angles and positions in arcsec relative to the lens centre (`LensModel` conventions), masses in M☉,
/// radii in physical kpc, fluxes in the survey's flux units. The central image is never in `images` (see
/// `SurveySettings`). Encoding it with `JSONEncoder` is enough to store it; the documented on-disk catalog is
/// `lenses.h5` (`MockLensCatalogFile` in LensingRuns, written by `tessera lenses mock`).
public struct MockLensCatalog: Codable, Sendable, Equatable {
    public var hyperparameters: PopulationHyperparameters
    public var survey: SurveySettings
    /// Base seed; lens draw i uses `RandomSource(seed: seed, stream: i)`.
    public var seed: UInt64
    /// Lenses drawn (selected or not) to get `lenses`.
    public var drawn: Int
    /// Draws rejected because an image fell outside the microlensing table (counted in `drawn`).
    public var rejectedOutsideTable: Int
    public var lenses: [MockLens]

    public init(hyperparameters: PopulationHyperparameters, survey: SurveySettings, seed: UInt64, drawn: Int,
                rejectedOutsideTable: Int, lenses: [MockLens]) {
        self.hyperparameters = hyperparameters
        self.survey = survey
        self.seed = seed
        self.drawn = drawn
        self.rejectedOutsideTable = rejectedOutsideTable
        self.lenses = lenses
    }
}

/// One observed image.
public struct ObservedImage: Codable, Sendable, Equatable {
    /// Observed position [arcsec] and its per-axis Gaussian error.
    public var x: Double, y: Double, positionError: Double
    /// Observed flux and its Gaussian error.
    public var flux: Double, fluxError: Double

    public init(x: Double, y: Double, positionError: Double, flux: Double, fluxError: Double) {
        (self.x, self.y, self.positionError, self.flux, self.fluxError) = (x, y, positionError, flux, fluxError)
    }
}

/// One lens: the observables and the truth.
public struct MockLens: Codable, Sendable, Equatable {
    public var id: String
    public var lensRedshift: Double, sourceRedshift: Double
    /// log10 M_sps [M☉] and log10 R_e [kpc], taken as measured without error.
    public var logMsps: Double, logEffectiveRadius: Double
    /// The detected images (no central image), ordered by arrival time.
    public var images: [ObservedImage]
    public var truth: Truth

    public init(id: String, lensRedshift: Double, sourceRedshift: Double, logMsps: Double, logEffectiveRadius: Double,
                images: [ObservedImage], truth: Truth) {
        self.id = id
        (self.lensRedshift, self.sourceRedshift, self.logMsps, self.logEffectiveRadius) = (lensRedshift, sourceRedshift, logMsps, logEffectiveRadius)
        self.images = images
        self.truth = truth
    }

    /// What the mock was drawn from; unknown to the likelihood.
    public struct Truth: Codable, Sendable, Equatable {
        public var parameters: LensParameters
        public var alphaSPS: Double
        /// Per detected image: true position, κ, |γ|, s, signed macro magnification, microlensing factor μ/μ_th,
        /// parity and time delay.
        public var images: [TrueImage]

        public init(parameters: LensParameters, alphaSPS: Double, images: [TrueImage]) {
            (self.parameters, self.alphaSPS, self.images) = (parameters, alphaSPS, images)
        }
    }

    public struct TrueImage: Codable, Sendable, Equatable {
        public var x: Double, y: Double
        public var kappa: Double, gamma: Double, smoothFraction: Double
        public var macroMagnification: Double
        public var microlensingFactor: Double
        /// Sign of det A: +1 minimum, −1 saddle.
        public var parity: Int
        /// Arrival time after the first image (of all images, the central one included) [days].
        public var timeDelayDays: Double

        public init(x: Double, y: Double, kappa: Double, gamma: Double, smoothFraction: Double, macroMagnification: Double,
                    microlensingFactor: Double, parity: Int, timeDelayDays: Double) {
            (self.x, self.y, self.kappa, self.gamma, self.smoothFraction) = (x, y, kappa, gamma, smoothFraction)
            (self.macroMagnification, self.microlensingFactor) = (macroMagnification, microlensingFactor)
            (self.parity, self.timeDelayDays) = (parity, timeDelayDays)
        }
    }
}

/// The per-lens parameters a lens likelihood is a function of (the lens's data fix z_l, z_s, M_sps and R_e).
public struct LensParameters: Codable, Sendable, Equatable {
    /// log10 M₂₀₀c [M☉].
    public var logHaloMass: Double
    /// External shear components.
    public var shear1: Double, shear2: Double
    /// Source position [arcsec].
    public var sourceX: Double, sourceY: Double
    /// log10 of the intrinsic (unlensed) source flux.
    public var logSourceFlux: Double

    public init(logHaloMass: Double, shear1: Double, shear2: Double, sourceX: Double, sourceY: Double, logSourceFlux: Double) {
        self.logHaloMass = logHaloMass
        self.shear1 = shear1
        self.shear2 = shear2
        self.sourceX = sourceX
        self.sourceY = sourceY
        self.logSourceFlux = logSourceFlux
    }

    /// As a vector (logHaloMass, shear1, shear2, sourceX, sourceY, logSourceFlux), for samplers and gradients.
    public var vector: [Double] {
        get { [logHaloMass, shear1, shear2, sourceX, sourceY, logSourceFlux] }
        set {
            precondition(newValue.count == 6, "LensParameters has 6 components")
            (logHaloMass, shear1, shear2, sourceX, sourceY, logSourceFlux) =
                (newValue[0], newValue[1], newValue[2], newValue[3], newValue[4], newValue[5])
        }
    }
}
