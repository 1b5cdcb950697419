import StampFitting
import TesseraRun

/// The `fit` section of a batch configuration: the stamp fitters' settings (`StampFitSettings`),
/// every key documented and optional.
public struct BatchFitConfiguration: Configuration, Equatable {
    public var settings = StampFitSettings()
    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case psfComponents = "psf_components", useCoadd = "use_coadd", minPasses = "min_passes", maxPasses = "max_passes"
        case maxAbs = "max_abs", maxFrac = "max_frac", maxErr = "max_err", warmup, draws
        case startRhalf = "start_rhalf", startSersic = "start_sersic"
        case jointStartMaxMembers = "joint_start_max_members", marginalErrors = "marginal_errors"
        case jointFinishMaxMembers = "joint_finish_max_members", extrapolatePasses = "extrapolate_passes"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .psfComponents: return "Gaussian components fitted to each epoch's MEDS PSF image."
        case .useCoadd: return "Fit the coadd cutout (cutout 0) instead of the single epochs."
        case .minPasses: return "MOF: fewest passes per member of a group of two or more."
        case .maxPasses: return "MOF: most passes per member; a member still moving then is flagged not converged (flag 8)."
        case .maxAbs: return "MOF: absolute change allowed per parameter [ξ, η (arcsec), flux, q, pa (rad), n, r_half (arcsec)] (ngmixer maxabs_conv)."
        case .maxFrac: return "MOF: fractional change allowed per parameter, same order (ngmixer maxfrac_conv)."
        case .maxErr: return "MOF: change allowed in units of the parameter's standard error (ngmixer maxerr_conv)."
        case .warmup: return "NUTS warm-up iterations per member."
        case .draws: return "NUTS draws kept per member."
        case .startRhalf: return "Starting half-light radius, arcsec."
        case .startSersic: return "Starting Sérsic index."
        case .jointStartMaxMembers: return "MOF: groups of at most this many members start from a joint fit (fluxes solved together, then all members fitted at once); 0 = never."
        case .jointFinishMaxMembers: return "MOF: after the passes, members of groups of at most this many are refitted with their neighbours free (on their own stamps, from the MOF state), and that fit's values and errors are reported; 0 = never."
        case .extrapolatePasses: return "MOF: after every three whole passes of a group, jump towards the passes' fixed point (squared extrapolation, SQUAREM); the next pass checks the jump. false = plain passes (ngmixer)."
        case .marginalErrors: return "MOF: each member's errors from a joint Laplace covariance with its neighbours free (true) or held at their latest models (false)."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        var s = StampFitSettings()
        s.psfComponents = try c.decodeIfPresent(Int.self, forKey: .psfComponents) ?? s.psfComponents
        s.useCoadd = try c.decodeIfPresent(Bool.self, forKey: .useCoadd) ?? s.useCoadd
        s.minPasses = try c.decodeIfPresent(Int.self, forKey: .minPasses) ?? s.minPasses
        s.maxPasses = try c.decodeIfPresent(Int.self, forKey: .maxPasses) ?? s.maxPasses
        s.maxAbs = try c.decodeIfPresent([Double].self, forKey: .maxAbs) ?? s.maxAbs
        s.maxFrac = try c.decodeIfPresent([Double].self, forKey: .maxFrac) ?? s.maxFrac
        s.maxErr = try c.decodeIfPresent(Double.self, forKey: .maxErr) ?? s.maxErr
        s.warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? s.warmup
        s.draws = try c.decodeIfPresent(Int.self, forKey: .draws) ?? s.draws
        s.startRhalf = try c.decodeIfPresent(Double.self, forKey: .startRhalf) ?? s.startRhalf
        s.startSersic = try c.decodeIfPresent(Double.self, forKey: .startSersic) ?? s.startSersic
        s.jointStartMaxMembers = try c.decodeIfPresent(Int.self, forKey: .jointStartMaxMembers) ?? s.jointStartMaxMembers
        s.marginalErrors = try c.decodeIfPresent(Bool.self, forKey: .marginalErrors) ?? s.marginalErrors
        s.jointFinishMaxMembers = try c.decodeIfPresent(Int.self, forKey: .jointFinishMaxMembers) ?? s.jointFinishMaxMembers
        s.extrapolatePasses = try c.decodeIfPresent(Bool.self, forKey: .extrapolatePasses) ?? s.extrapolatePasses
        settings = s
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        let s = settings
        try c.encode(s.psfComponents, forKey: .psfComponents)
        try c.encode(s.useCoadd, forKey: .useCoadd)
        try c.encode(s.minPasses, forKey: .minPasses)
        try c.encode(s.maxPasses, forKey: .maxPasses)
        try c.encode(s.maxAbs, forKey: .maxAbs)
        try c.encode(s.maxFrac, forKey: .maxFrac)
        try c.encode(s.maxErr, forKey: .maxErr)
        try c.encode(s.warmup, forKey: .warmup)
        try c.encode(s.draws, forKey: .draws)
        try c.encode(s.startRhalf, forKey: .startRhalf)
        try c.encode(s.startSersic, forKey: .startSersic)
        try c.encode(s.jointStartMaxMembers, forKey: .jointStartMaxMembers)
        try c.encode(s.marginalErrors, forKey: .marginalErrors)
        try c.encode(s.jointFinishMaxMembers, forKey: .jointFinishMaxMembers)
        try c.encode(s.extrapolatePasses, forKey: .extrapolatePasses)
    }

    public func validate() throws {
        let s = settings
        if s.psfComponents < 1 { throw InvalidConfigValue(field: "fit.psf_components", reason: "must be >= 1") }
        if s.minPasses < 1 || s.maxPasses < s.minPasses { throw InvalidConfigValue(field: "fit.max_passes", reason: "need 1 <= min_passes <= max_passes") }
        if s.maxAbs.isEmpty || s.maxFrac.isEmpty || (s.maxAbs + s.maxFrac + [s.maxErr]).contains(where: { !($0 >= 0) }) {
            throw InvalidConfigValue(field: "fit.max_abs", reason: "tolerances must be non-empty lists of numbers >= 0")
        }
        if s.warmup < 0 || s.draws < 2 { throw InvalidConfigValue(field: "fit.draws", reason: "need warmup >= 0 and draws >= 2") }
        if s.jointStartMaxMembers < 0 { throw InvalidConfigValue(field: "fit.joint_start_max_members", reason: "must be >= 0") }
        if s.jointFinishMaxMembers < 0 { throw InvalidConfigValue(field: "fit.joint_finish_max_members", reason: "must be >= 0") }
        if !(s.startRhalf > 0) || !(s.startSersic > 0) { throw InvalidConfigValue(field: "fit.start_rhalf", reason: "starting values must be > 0") }
    }
}
