import Microlensing
import TesseraRun

extension KeyedDecodingContainer {
    /// A name with a fixed set of spellings (a String-valued enum), refused with the allowed
    /// spellings listed when it is none of them.
    func decodeName<Name: RawRepresentable & CaseIterable>(_ type: Name.Type, forKey key: Key) throws -> Name?
        where Name.RawValue == String {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let name = Name(rawValue: text) else {
            let allowed = Name.allCases.map(\.rawValue)
            let list = allowed.dropLast().joined(separator: ", ") + " or " + (allowed.last ?? "")
            throw InvalidConfigValue(field: key.stringValue, reason: "must be \(list), got '\(text)'")
        }
        return name
    }
}

/// Configuration of `tessera tabulate`: the (κ, γ, s) grid, the map settings of every cell, the
/// source sizes and the histogram binning. Units: lengths in Einstein radii of a 1 M☉ star.
public struct TableGridConfiguration: Configuration, Equatable {
    public var simId = "example"
    public var tableVersion = "1"
    public var kappa: [Double] = [0.3, 0.45, 0.6]
    public var gamma: [Double] = [0.2, 0.45]
    public var s: [Double] = [0.0, 0.5]
    public var criticalMargin = 0.02
    public var sizeRE = 10.0
    public var pixels = 200
    public var raysPerPixel = 100.0
    public var sourceSizes: [Double] = [0.0]
    public var sourceProfile = SourceProfile.Shape.gaussian
    public var logMuRange: [Double] = [-2.0, 2.0]
    public var bins = 80
    public var seed: UInt64 = 1
    public var massFunction = MassFunction.Family.unit
    public var massRange: [Double] = [0.08, 1.0]
    public var maxAttempts = 3
    public var lightLoss = 0.01
    public var method = MapMethod.rayShooting
    public var compensateMeanField = true
    public var keepMaps = false

    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case simId = "sim_id", tableVersion = "table_version", kappa, gamma, s
        case criticalMargin = "critical_margin", sizeRE = "size_re", pixels, raysPerPixel = "rays_per_pixel"
        case sourceSizes = "source_sizes", sourceProfile = "source_profile", logMuRange = "log_mu_range", bins, seed
        case massFunction = "mass_function", massRange = "mass_range", maxAttempts = "max_attempts"
        case lightLoss = "light_loss", method, compensateMeanField = "compensate_mean_field", keepMaps = "keep_maps"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .simId: return "Name of the table set; the default output directory is data/tables/<sim_id>/."
        case .tableVersion: return "Version string stored in the table and in metadata.json (bump it when settings change)."
        case .kappa: return "Lattice axis of total convergence κ (strictly increasing)."
        case .gamma: return "Lattice axis of shear γ (strictly increasing, >= 0)."
        case .s: return "Lattice axis of smooth-matter fraction s = κ_smooth/κ, in [0, 1) (strictly increasing)."
        case .criticalMargin:
            return "Cells with ||1 − κ| − γ| below this are skipped (the macro magnification diverges on the critical line)."
        case .sizeRE: return "Side of each map's source-plane square, in Einstein radii."
        case .pixels: return "Pixels along each side of each map."
        case .raysPerPixel:
            return "Rays shot per source pixel for an unlensed source (sets the ray density and, for irs, the counting noise); with method ipm, grid squares per pixel."
        case .sourceSizes:
            return "Source sizes in Einstein radii (Gaussian σ or disk radius); 0 = the pixel-sized point source. One histogram each."
        case .sourceProfile: return "Finite-source profile: gaussian or disk."
        case .logMuRange: return "[low, high] of the histogram in log10(μ/μ_theory), μ_theory = 1/|(1−κ)² − γ²|."
        case .bins: return "Number of histogram bins over log_mu_range."
        case .seed: return "Base random seed; cell i uses the star-field seed recorded in /cells/seed."
        case .massFunction:
            return "Stellar masses: unit (all 1 M☉), salpeter (dN/dm ∝ m^−2.35) or kroupa (Kroupa 2001), within mass_range."
        case .massRange: return "[minimum, maximum] stellar mass in M☉ for salpeter and kroupa (ignored for unit)."
        case .maxAttempts: return "Attempts per cell before it is marked failed (a failed cell is retried on resume)."
        case .lightLoss:
            return "Light loss ε that sizes each shooting region: rays are shot out to a source-plane margin D = √(κ*⟨m²⟩/(⟨m⟩ε)) around the map's macro pre-image (a map's mean is then low by about √(κ*ε)/size_re); smaller is wider and slower."
        case .method:
            return "irs: inverse ray shooting, rays_per_pixel rays per unlensed pixel counted where they land (noise ≈ 1/√(rays_per_pixel·μ) per pixel). ipm: inverse polygon mapping over the same grid, each grid square's area spread over the pixels its image overlaps (no counting noise; about 1 grid square per pixel is enough)."
        case .keepMaps:
            return "Also save each cell's point-source map as maps/cell-NNNNNN.h5 in the run directory (the `tessera magmap` HDF5 layout; 4 bytes per pixel)."
        case .compensateMeanField:
            return "Fix each star field's mass in the map's pre-image to its expectation and cancel the stars' mean shear there (Poisson noise that shifts a single map's mean by several per cent near the critical line), so every map is a sample at exactly its (κ, γ)."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        simId = try c.decodeIfPresent(String.self, forKey: .simId) ?? d.simId
        tableVersion = try c.decodeIfPresent(String.self, forKey: .tableVersion) ?? d.tableVersion
        kappa = try c.decodeIfPresent([Double].self, forKey: .kappa) ?? d.kappa
        gamma = try c.decodeIfPresent([Double].self, forKey: .gamma) ?? d.gamma
        s = try c.decodeIfPresent([Double].self, forKey: .s) ?? d.s
        criticalMargin = try c.decodeIfPresent(Double.self, forKey: .criticalMargin) ?? d.criticalMargin
        sizeRE = try c.decodeIfPresent(Double.self, forKey: .sizeRE) ?? d.sizeRE
        pixels = try c.decodeIfPresent(Int.self, forKey: .pixels) ?? d.pixels
        raysPerPixel = try c.decodeIfPresent(Double.self, forKey: .raysPerPixel) ?? d.raysPerPixel
        sourceSizes = try c.decodeIfPresent([Double].self, forKey: .sourceSizes) ?? d.sourceSizes
        sourceProfile = try c.decodeName(SourceProfile.Shape.self, forKey: .sourceProfile) ?? d.sourceProfile
        logMuRange = try c.decodeIfPresent([Double].self, forKey: .logMuRange) ?? d.logMuRange
        bins = try c.decodeIfPresent(Int.self, forKey: .bins) ?? d.bins
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        massFunction = try c.decodeName(MassFunction.Family.self, forKey: .massFunction) ?? d.massFunction
        massRange = try c.decodeIfPresent([Double].self, forKey: .massRange) ?? d.massRange
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        lightLoss = try c.decodeIfPresent(Double.self, forKey: .lightLoss) ?? d.lightLoss
        method = try c.decodeName(MapMethod.self, forKey: .method) ?? d.method
        compensateMeanField = try c.decodeIfPresent(Bool.self, forKey: .compensateMeanField) ?? d.compensateMeanField
        keepMaps = try c.decodeIfPresent(Bool.self, forKey: .keepMaps) ?? d.keepMaps
    }

    public func validate() throws {
        func increasing(_ axis: [Double], _ key: Key) throws {
            guard !axis.isEmpty else { throw InvalidConfigValue(field: key.stringValue, reason: "needs at least one value") }
            guard zip(axis, axis.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw InvalidConfigValue(field: key.stringValue, reason: "values must be strictly increasing, got \(axis)")
            }
        }
        try increasing(kappa, .kappa)
        try increasing(gamma, .gamma)
        try increasing(s, .s)
        if kappa.contains(where: { $0 < 0 }) { throw InvalidConfigValue(field: "kappa", reason: "must be >= 0") }
        if gamma.contains(where: { $0 < 0 }) { throw InvalidConfigValue(field: "gamma", reason: "must be >= 0") }
        if s.contains(where: { $0 < 0 || $0 >= 1 }) { throw InvalidConfigValue(field: "s", reason: "must lie in [0, 1)") }
        if criticalMargin < 0 { throw InvalidConfigValue(field: "critical_margin", reason: "must be >= 0") }
        if maxAttempts < 1 { throw InvalidConfigValue(field: "max_attempts", reason: "must be >= 1") }
        do { try mapRecipe.validate() } catch let error as MapRecipe.InvalidSetting {
            throw InvalidConfigValue(field: error.key, reason: error.reason)
        }
    }

    /// The map and histogram settings every cell shares.
    public var mapRecipe: MapRecipe {
        MapRecipe(sizeRE: sizeRE, pixels: pixels, raysPerPixel: raysPerPixel, massFunction: massFunction, massRange: massRange,
                  lightLoss: lightLoss, compensateMeanField: compensateMeanField, method: method, sourceSizes: sourceSizes,
                  sourceProfile: sourceProfile, logMuRange: logMuRange, bins: bins)
    }

    /// One cell of the lattice, in storage order (κ slowest, s fastest).
    public struct Cell: Codable, Sendable, Equatable {
        public var index: Int
        public var kappa: Double
        public var gamma: Double
        public var s: Double
        /// Star-field seed of this cell.
        public var seed: UInt64
        /// False for cells on (or within `critical_margin` of) the critical line.
        public var computable: Bool
    }

    /// Every lattice cell, including skipped ones, with its seed.
    public var cells: [Cell] {
        var out: [Cell] = []
        for k in kappa {
            for g in gamma {
                for fraction in s {
                    let index = out.count
                    let computable = abs(abs(1 - k) - g) >= criticalMargin
                    out.append(Cell(index: index, kappa: k, gamma: g, s: fraction,
                                    seed: Self.cellSeed(base: seed, index: index), computable: computable))
                }
            }
        }
        return out
    }

    /// The star-field seed of cell `index`: a hash of (base seed, index), so cells are
    /// independent and a cell's map can be recomputed alone with `tessera magmap --seed`.
    public static func cellSeed(base: UInt64, index: Int) -> UInt64 {
        var z = base &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) >> 1  // keep it below 2^63 so every tool reads it as a signed integer too
    }

    /// Histogram bin edges in log10(μ/μ_theory).
    public var binEdges: [Double] {
        (0...bins).map { logMuRange[0] + (logMuRange[1] - logMuRange[0]) * Double($0) / Double(bins) }
    }
}
