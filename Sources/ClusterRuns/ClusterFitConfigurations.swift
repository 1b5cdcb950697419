import TesseraRun

/// Configuration of `tessera clusters mock`: mock halos with an injected weak-lensing mass bias
/// and scatter, ln M_WL = ln b + ln M_true + ε, ε ~ N(0, σ²). Masses are M200c in M☉,
/// radii physical Mpc, ΔΣ in M☉/Mpc².
public struct ClusterMockConfiguration: Configuration, Equatable {
    public var count = 50
    public var seed: UInt64 = 1
    public var log10MassRange: [Double] = [14.0, 15.0]
    public var redshiftRange: [Double] = [0.2, 0.5]
    public var bias = 0.9
    public var scatter = 0.2
    public var noise = 0.25
    public var radii: [Double] = [0.3, 3.0]
    public var bins = 10
    public var observables: [String] = ["delta_sigma"]
    public var format = "hdf5"
    public var sourceRedshift = 1.2
    public var mapPixels = 24
    public var mapPixelScale = 0.125
    public init() {}

    /// The observable names `observables` accepts, in the order of their noise streams.
    public static let observableNames = ["delta_sigma", "tangential_shear", "reduced_shear", "kappa_map", "mass_map"]

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case count, seed, log10MassRange = "log10_mass_range", redshiftRange = "redshift_range", bias, scatter, noise
        case radii, bins, observables, format, sourceRedshift = "source_redshift", mapPixels = "map_pixels"
        case mapPixelScale = "map_pixel_scale"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .count: return "Number of mock halos."
        case .seed: return "Random seed (masses, redshifts, scatter and noise)."
        case .log10MassRange: return "[low, high] of log10 M_true (M200c, M☉), drawn uniformly."
        case .redshiftRange: return "[low, high] of the halo redshifts, drawn uniformly."
        case .bias: return "Injected bias b of M_WL = b · M_true."
        case .scatter: return "Injected log-normal scatter σ_lnM of M_WL about b · M_true."
        case .noise:
            return "1σ noise of each profile bin and map pixel as a fraction of the noiseless value for the nominal mass b · M_true (without the scatter)."
        case .radii: return "[inner, outer] radius of the profiles, physical Mpc (log-spaced bins)."
        case .bins: return "Radial bins per profile."
        case .observables:
            return "Observables written per halo, any of delta_sigma, tangential_shear, reduced_shear, kappa_map, mass_map (each fitted as an independent Gaussian term)."
        case .format: return "Halo file format: hdf5 (halo-<id>.h5) or fits (halo-<id>.fits); layouts in the README and HaloFiles.swift."
        case .sourceRedshift: return "Redshift of the single source plane of the γ_t, g_t and κ observables (must exceed the largest halo redshift)."
        case .mapPixels: return "Side of the square κ and mass maps, pixels (halo at the grid centre)."
        case .mapPixelScale: return "Map pixel side, physical Mpc at the lens."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? d.count
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        log10MassRange = try c.decodeIfPresent([Double].self, forKey: .log10MassRange) ?? d.log10MassRange
        redshiftRange = try c.decodeIfPresent([Double].self, forKey: .redshiftRange) ?? d.redshiftRange
        bias = try c.decodeIfPresent(Double.self, forKey: .bias) ?? d.bias
        scatter = try c.decodeIfPresent(Double.self, forKey: .scatter) ?? d.scatter
        noise = try c.decodeIfPresent(Double.self, forKey: .noise) ?? d.noise
        radii = try c.decodeIfPresent([Double].self, forKey: .radii) ?? d.radii
        bins = try c.decodeIfPresent(Int.self, forKey: .bins) ?? d.bins
        observables = try c.decodeIfPresent([String].self, forKey: .observables) ?? d.observables
        format = try c.decodeIfPresent(String.self, forKey: .format) ?? d.format
        sourceRedshift = try c.decodeIfPresent(Double.self, forKey: .sourceRedshift) ?? d.sourceRedshift
        mapPixels = try c.decodeIfPresent(Int.self, forKey: .mapPixels) ?? d.mapPixels
        mapPixelScale = try c.decodeIfPresent(Double.self, forKey: .mapPixelScale) ?? d.mapPixelScale
    }

    public func validate() throws {
        if count < 1 { throw InvalidConfigValue(field: "count", reason: "must be >= 1") }
        for (key, range) in [("log10_mass_range", log10MassRange), ("redshift_range", redshiftRange), ("radii", radii)] {
            guard range.count == 2, range[0] <= range[1], range[0] > 0 else {
                throw InvalidConfigValue(field: key, reason: "must be [low, high] with 0 < low <= high")
            }
        }
        if bias <= 0 { throw InvalidConfigValue(field: "bias", reason: "must be > 0") }
        if scatter < 0 { throw InvalidConfigValue(field: "scatter", reason: "must be >= 0") }
        if noise <= 0 { throw InvalidConfigValue(field: "noise", reason: "must be > 0") }
        if bins < 2 { throw InvalidConfigValue(field: "bins", reason: "must be >= 2") }
        if observables.isEmpty { throw InvalidConfigValue(field: "observables", reason: "give at least one observable") }
        for name in observables where !Self.observableNames.contains(name) {
            throw InvalidConfigValue(field: "observables", reason: "unknown '\(name)'; use \(Self.observableNames.joined(separator: ", "))")
        }
        if Set(observables).count != observables.count {
            throw InvalidConfigValue(field: "observables", reason: "each observable at most once")
        }
        if !["hdf5", "fits"].contains(format) { throw InvalidConfigValue(field: "format", reason: "must be hdf5 or fits, got '\(format)'") }
        if observables.contains(where: { ["tangential_shear", "reduced_shear", "kappa_map"].contains($0) }),
           !(sourceRedshift > redshiftRange[1]) || !sourceRedshift.isFinite {
            throw InvalidConfigValue(field: "source_redshift",
                                     reason: "must be finite and beyond the largest halo redshift \(redshiftRange[1]) (got \(sourceRedshift))")
        }
        if mapPixels < 2 { throw InvalidConfigValue(field: "map_pixels", reason: "must be >= 2") }
        if !(mapPixelScale > 0) || !mapPixelScale.isFinite {
            throw InvalidConfigValue(field: "map_pixel_scale", reason: "must be finite and > 0")
        }
    }
}

/// Configuration of `tessera clusters fit`: which halos, which method, which cosmology.
public struct ClusterFitConfiguration: Configuration, Equatable {
    public var halos = "halos"
    public var method = "optimize"
    public var warmup = 300
    public var draws = 300
    public var chains = 2
    public var fitConcentration = false
    public var log10MassRange: [Double] = [12.0, 16.0]
    public var h0 = 70.0
    public var omegaCDM = 0.25
    public var omegaBaryon = 0.05
    public var seed: UInt64 = 1
    public var maxAttempts = 2
    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case halos, method, warmup, draws, chains, fitConcentration = "fit_concentration"
        case log10MassRange = "log10_mass_range", h0, omegaCDM = "omega_cdm", omegaBaryon = "omega_baryon", seed
        case maxAttempts = "max_attempts"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .halos:
            return "Directory of halo files (halo-<id>.h5 or halo-<id>.fits, the layouts `tessera clusters mock` writes; one file per id)."
        case .method: return "optimize (L-BFGS + Laplace error) or nuts (posterior samples)."
        case .warmup: return "NUTS warm-up iterations per chain."
        case .draws: return "NUTS draws per chain."
        case .chains: return "NUTS chains per halo."
        case .fitConcentration: return "Fit log10 c as well (otherwise c from Duffy et al. 2008)."
        case .log10MassRange: return "Flat prior bounds on log10 M200c [M☉]."
        case .h0: return "Hubble constant [km/s/Mpc] of the flat ΛCDM cosmology."
        case .omegaCDM: return "Cold dark matter density parameter today."
        case .omegaBaryon: return "Baryon density parameter today."
        case .seed: return "Base seed; halo i samples with stream i."
        case .maxAttempts: return "Attempts per halo before it is reported failed (retried on --resume)."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        halos = try c.decodeIfPresent(String.self, forKey: .halos) ?? d.halos
        method = try c.decodeIfPresent(String.self, forKey: .method) ?? d.method
        warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? d.warmup
        draws = try c.decodeIfPresent(Int.self, forKey: .draws) ?? d.draws
        chains = try c.decodeIfPresent(Int.self, forKey: .chains) ?? d.chains
        fitConcentration = try c.decodeIfPresent(Bool.self, forKey: .fitConcentration) ?? d.fitConcentration
        log10MassRange = try c.decodeIfPresent([Double].self, forKey: .log10MassRange) ?? d.log10MassRange
        h0 = try c.decodeIfPresent(Double.self, forKey: .h0) ?? d.h0
        omegaCDM = try c.decodeIfPresent(Double.self, forKey: .omegaCDM) ?? d.omegaCDM
        omegaBaryon = try c.decodeIfPresent(Double.self, forKey: .omegaBaryon) ?? d.omegaBaryon
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
    }

    public func validate() throws {
        if !["optimize", "nuts"].contains(method) {
            throw InvalidConfigValue(field: "method", reason: "must be optimize or nuts, got '\(method)'")
        }
        if warmup < 10 || draws < 10 || chains < 1 {
            throw InvalidConfigValue(field: "warmup", reason: "warmup and draws must be >= 10 and chains >= 1")
        }
        if log10MassRange.count != 2 || log10MassRange[0] >= log10MassRange[1] {
            throw InvalidConfigValue(field: "log10_mass_range", reason: "must be [low, high] with low < high")
        }
        if maxAttempts < 1 { throw InvalidConfigValue(field: "max_attempts", reason: "must be >= 1") }
    }
}
