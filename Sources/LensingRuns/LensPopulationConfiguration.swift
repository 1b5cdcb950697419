import Foundation
import HaloProfiles
import LensInference
import Microlensing
import TesseraHDF5
import TesseraRun

/// Configuration of a strong-lens population and its survey, shared by `tessera lenses mock` (a mock catalog)
/// and `tessera selection build` (the selection normalisation A(η)): one file describes the population both are
/// made for, so a catalog and the A(η) a likelihood divides by cannot silently disagree on the survey.
///
/// Units follow `PopulationHyperparameters` and `SurveySettings`: log10 masses in M☉, radii in kpc, angles and
/// positions in arcsec, fluxes in the survey's units, source sizes in microlens Einstein radii.
public struct LensPopulationConfiguration: Configuration, Equatable {
    public var simId = "example"
    public var table = "data/tables/example/table.h5"
    // Hyperparameters η (the mock's truth; for A(η) the non-inferred ones are held at these values).
    public var logMspsMean = 11.4, logMspsSigma = 0.15, alphaSps = 1.2, haloSlope = 1.5, haloNormalisation = 13.0
    public var haloScatter = 0.15, sizeNormalisation = 0.75, sizeSlope = 0.6, sizeScatter = 0.1, pivotLogMass = 11.5
    // Survey.
    public var lensRedshiftRange = [0.3, 0.6], sourceRedshiftRange = [1.5, 2.5]
    public var shearSigma = 0.05, sourceRadius = 0.6, logSourceFluxMean = 2.0, logSourceFluxSigma = 0.2, sourceSize = 0.0
    public var positionError = 0.005, fluxErrorFraction = 0.05, fluxLimit = 50.0, minSeparation = 0.5
    public var rejectOutsideTable = true
    // Cosmology (flat ΛCDM).
    public var h0 = 70.0, omegaCdm = 0.25, omegaBaryon = 0.05
    // Mock catalog.
    public var lenses = 20
    public var seed: UInt64 = 1
    // Selection normalisation A(η).
    public var selectionVersion = "1"
    public var lower = [1.0, 1.2, 12.6, 0.08], upper = [1.5, 1.8, 13.4, 0.25]
    public var draws = 400
    public var initialPoints = 40
    public var pointsPerRound = 10
    public var maxPoints = 120
    public var tolerance = 3.0
    public var candidates = 2000
    public var maxAttempts = 3

    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case simId = "sim_id", table
        case logMspsMean = "log_msps_mean", logMspsSigma = "log_msps_sigma", alphaSps = "alpha_sps", haloSlope = "halo_slope"
        case haloNormalisation = "halo_normalisation", haloScatter = "halo_scatter", sizeNormalisation = "size_normalisation"
        case sizeSlope = "size_slope", sizeScatter = "size_scatter", pivotLogMass = "pivot_log_mass"
        case lensRedshiftRange = "lens_redshift_range", sourceRedshiftRange = "source_redshift_range", shearSigma = "shear_sigma"
        case sourceRadius = "source_radius", logSourceFluxMean = "log_source_flux_mean", logSourceFluxSigma = "log_source_flux_sigma"
        case sourceSize = "source_size", positionError = "position_error", fluxErrorFraction = "flux_error_fraction"
        case fluxLimit = "flux_limit", minSeparation = "min_separation", rejectOutsideTable = "reject_outside_table"
        case h0, omegaCdm = "omega_cdm", omegaBaryon = "omega_baryon"
        case lenses, seed
        case selectionVersion = "selection_version", lower, upper, draws, initialPoints = "initial_points"
        case pointsPerRound = "points_per_round", maxPoints = "max_points", tolerance, candidates, maxAttempts = "max_attempts"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .simId: return "Name of the population; recorded in lenses.h5 and selection.h5, and selection build's default run directory is runs/selection-<sim_id>-<UTC time>."
        case .table: return "The magnification table (table.h5 of `tessera tabulate`) whose PDFs give each image's microlensing; its table_version is recorded."
        case .logMspsMean: return "Mean of log10 M_sps [M☉] (the stellar mass a population fit reports)."
        case .logMspsSigma: return "Standard deviation of log10 M_sps [dex]."
        case .alphaSps: return "IMF mismatch α_sps: M* = α_sps · M_sps (inferred; axis 1 of A(η))."
        case .haloSlope: return "Slope of log M_h = norm + slope (log M* − pivot) (inferred; axis 2 of A(η))."
        case .haloNormalisation: return "Normalisation of the M_h–M* relation [log10 M☉, M₂₀₀c] (inferred; axis 3 of A(η))."
        case .haloScatter: return "Log-normal scatter of M_h at fixed M* [dex] (inferred; axis 4 of A(η))."
        case .sizeNormalisation: return "log10 R_e [kpc] at the pivot mass."
        case .sizeSlope: return "Slope of log R_e against log M_sps."
        case .sizeScatter: return "Scatter of log R_e at fixed M_sps [dex]."
        case .pivotLogMass: return "Pivot of the halo and size relations [log10 M☉]."
        case .lensRedshiftRange: return "[low, high] of the uniform lens redshift distribution."
        case .sourceRedshiftRange: return "[low, high] of the uniform source redshift distribution (above the lens range)."
        case .shearSigma: return "Standard deviation of each external shear component."
        case .sourceRadius: return "Sources are uniform in a disc of this radius [arcsec] about the lens centre (the area A(η) is a fraction of)."
        case .logSourceFluxMean: return "Mean log10 intrinsic source flux (survey flux units, e.g. nJy)."
        case .logSourceFluxSigma: return "Standard deviation of log10 intrinsic source flux."
        case .sourceSize: return "Source radius in microlens Einstein radii (a source size of the magnification table; 0 = point source)."
        case .positionError: return "Gaussian error of each image coordinate [arcsec]."
        case .fluxErrorFraction: return "Gaussian flux error as a fraction of the image's flux without microlensing (F_s |mu|)."
        case .fluxLimit: return "Every detected image must have observed flux >= this (survey flux units)."
        case .minSeparation: return "The largest image separation must be >= this [arcsec]."
        case .rejectOutsideTable: return "A lens with an image outside the magnification table counts as not selected (else it is an error)."
        case .h0: return "Hubble constant [km/s/Mpc]."
        case .omegaCdm: return "Cold dark matter density Ω_cdm (flat ΛCDM)."
        case .omegaBaryon: return "Baryon density Ω_b."
        case .lenses: return "lenses mock: number of selected lenses in the catalog."
        case .seed: return "Base seed: draw i uses random stream i of it (mock catalog and A(η) draws alike)."
        case .selectionVersion: return "selection build: version string stored in selection.h5 and checked by the loader (bump it when settings change)."
        case .lower: return "selection build: lower corner of the box in (α_sps, halo slope, halo normalisation, halo scatter)."
        case .upper: return "selection build: upper corner of the box (each > lower)."
        case .draws: return "selection build: Monte Carlo draws per η point (common random numbers: draws 0..<draws of seed at every η)."
        case .initialPoints: return "selection build: points of the space-filling (Halton) design evaluated first."
        case .pointsPerRound: return "selection build: points added per refinement round, where the leave-one-out error is largest."
        case .maxPoints: return "selection build: point budget; the build stops here if the tolerance does not hold yet (said in the file and log)."
        case .tolerance: return "selection build: stop when every node's leave-one-out error of ln A is within tolerance × its binomial σ(ln A)."
        case .candidates: return "selection build: size of the Halton candidate pool refinement points are chosen from."
        case .maxAttempts: return "selection build: attempts per point before the build fails (rerun with --resume)."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        func v<T: Decodable>(_ key: Key, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        simId = try v(.simId, d.simId); table = try v(.table, d.table)
        logMspsMean = try v(.logMspsMean, d.logMspsMean); logMspsSigma = try v(.logMspsSigma, d.logMspsSigma)
        alphaSps = try v(.alphaSps, d.alphaSps); haloSlope = try v(.haloSlope, d.haloSlope)
        haloNormalisation = try v(.haloNormalisation, d.haloNormalisation); haloScatter = try v(.haloScatter, d.haloScatter)
        sizeNormalisation = try v(.sizeNormalisation, d.sizeNormalisation); sizeSlope = try v(.sizeSlope, d.sizeSlope)
        sizeScatter = try v(.sizeScatter, d.sizeScatter); pivotLogMass = try v(.pivotLogMass, d.pivotLogMass)
        lensRedshiftRange = try v(.lensRedshiftRange, d.lensRedshiftRange)
        sourceRedshiftRange = try v(.sourceRedshiftRange, d.sourceRedshiftRange)
        shearSigma = try v(.shearSigma, d.shearSigma); sourceRadius = try v(.sourceRadius, d.sourceRadius)
        logSourceFluxMean = try v(.logSourceFluxMean, d.logSourceFluxMean)
        logSourceFluxSigma = try v(.logSourceFluxSigma, d.logSourceFluxSigma); sourceSize = try v(.sourceSize, d.sourceSize)
        positionError = try v(.positionError, d.positionError); fluxErrorFraction = try v(.fluxErrorFraction, d.fluxErrorFraction)
        fluxLimit = try v(.fluxLimit, d.fluxLimit); minSeparation = try v(.minSeparation, d.minSeparation)
        rejectOutsideTable = try v(.rejectOutsideTable, d.rejectOutsideTable)
        h0 = try v(.h0, d.h0); omegaCdm = try v(.omegaCdm, d.omegaCdm); omegaBaryon = try v(.omegaBaryon, d.omegaBaryon)
        lenses = try v(.lenses, d.lenses); seed = try v(.seed, d.seed)
        selectionVersion = try v(.selectionVersion, d.selectionVersion); lower = try v(.lower, d.lower); upper = try v(.upper, d.upper)
        draws = try v(.draws, d.draws); initialPoints = try v(.initialPoints, d.initialPoints)
        pointsPerRound = try v(.pointsPerRound, d.pointsPerRound); maxPoints = try v(.maxPoints, d.maxPoints)
        tolerance = try v(.tolerance, d.tolerance); candidates = try v(.candidates, d.candidates)
        maxAttempts = try v(.maxAttempts, d.maxAttempts)
    }

    /// η as the science module takes it.
    public var hyperparameters: PopulationHyperparameters {
        var eta = PopulationHyperparameters()
        eta.logMspsMean = logMspsMean; eta.logMspsSigma = logMspsSigma; eta.alphaSPS = alphaSps
        eta.haloSlope = haloSlope; eta.haloNormalisation = haloNormalisation; eta.haloScatter = haloScatter
        eta.sizeNormalisation = sizeNormalisation; eta.sizeSlope = sizeSlope; eta.sizeScatter = sizeScatter
        eta.pivotLogMass = pivotLogMass
        return eta
    }

    /// The survey as the science module takes it (call after `validate`, which checks the ranges have 2 values).
    public var survey: SurveySettings {
        var s = SurveySettings()
        s.lensRedshiftRange = lensRedshiftRange[0]...lensRedshiftRange[1]
        s.sourceRedshiftRange = sourceRedshiftRange[0]...sourceRedshiftRange[1]
        s.shearSigma = shearSigma; s.sourceRadius = sourceRadius; s.logSourceFluxMean = logSourceFluxMean
        s.logSourceFluxSigma = logSourceFluxSigma; s.sourceSize = sourceSize; s.positionError = positionError
        s.fluxErrorFraction = fluxErrorFraction; s.fluxLimit = fluxLimit; s.minSeparation = minSeparation
        s.rejectOutsideTable = rejectOutsideTable
        return s
    }

    public func validate() throws {
        for (values, key) in [(lensRedshiftRange, Key.lensRedshiftRange), (sourceRedshiftRange, .sourceRedshiftRange)]
        where !(values.count == 2 && values[0] <= values[1]) {
            throw InvalidConfigValue(field: key.stringValue, reason: "must be [low, high] with low <= high, got \(values)")
        }
        guard lower.count == 4, upper.count == 4, zip(lower, upper).allSatisfy({ $0 < $1 }) else {
            throw InvalidConfigValue(field: "upper", reason: "lower and upper need 4 values each with lower < upper, got \(lower) and \(upper)")
        }
        if !(lower[0] > 0 && lower[3] > 0) { throw InvalidConfigValue(field: "lower", reason: "α_sps and halo scatter must stay > 0, got \(lower)") }
        for (value, key) in [(lenses, Key.lenses), (draws, .draws), (pointsPerRound, .pointsPerRound), (maxAttempts, .maxAttempts)]
        where value < 1 {
            throw InvalidConfigValue(field: key.stringValue, reason: "must be >= 1, got \(value)")
        }
        if initialPoints < 6 { throw InvalidConfigValue(field: "initial_points", reason: "must be >= 6 (a 4-D interpolant with a linear tail), got \(initialPoints)") }
        if maxPoints < initialPoints { throw InvalidConfigValue(field: "max_points", reason: "must be >= initial_points (\(initialPoints)), got \(maxPoints)") }
        if candidates < pointsPerRound { throw InvalidConfigValue(field: "candidates", reason: "must be >= points_per_round, got \(candidates)") }
        if !(tolerance > 0) { throw InvalidConfigValue(field: "tolerance", reason: "must be > 0, got \(tolerance)") }
        do {
            try hyperparameters.validate()
            try survey.validate()
            _ = try cosmology()
        } catch let error as LensInferenceError {
            if case let .invalidParameter(name, _, _) = error { throw InvalidConfigValue(field: name, reason: "\(error)") }
            throw InvalidConfigValue(field: "population", reason: "\(error)")
        } catch {
            throw InvalidConfigValue(field: "h0/omega_cdm/omega_baryon", reason: "\(error)")
        }
    }

    public func cosmology() throws -> Cosmology { try Cosmology(H0: h0, omegaCDM: omegaCdm, omegaBaryon: omegaBaryon) }

    /// The mock population over the magnification table at `table` (opened on the calling rank), with the
    /// table's `table_version`.
    public func population() throws -> (population: MockPopulation, tableVersion: String) {
        let interpolator = try MagnificationTableInterpolator.load(table)
        let version = try MagnificationTableFile.version(of: table)
        let pop = try MockPopulation(hyperparameters: hyperparameters, survey: survey, cosmology: cosmology(),
                                     microlensing: MicrolensedFlux(table: interpolator))
        return (pop, version)
    }
}

extension MagnificationTableFile {
    /// The `table_version` attribute of a table file.
    public static func version(of path: String) throws -> String {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard let version = try file.attribute("table_version").stringValue else {
            throw RunDirectoryError.malformed(file: path, reason: "attribute table_version is not a string")
        }
        return version
    }
}
