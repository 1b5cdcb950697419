import Microlensing
import RunKit
import TesseraRun

/// Configuration of `tessera magmap`: one map of (κ, γ, s) and its histograms, as recorded in
/// its run directory's `params.json` (and read back by `tessera reproduce`). Units: lengths in
/// Einstein radii of a 1 M☉ star. The map and histogram keys are those of the grid
/// configuration (`TableGridConfiguration`) and are checked by the same `MapRecipe.validate`.
public struct MagMapConfiguration: Configuration, Equatable {
    public var kappa = 0.45
    public var gamma = 0.45
    public var s = 0.0
    public var sizeRE = 25.0
    public var pixels = 1000
    public var raysPerPixel = MapSettings.defaultRaysPerPixel
    public var seed: UInt64 = 1
    public var sourceSizes: [Double] = [0]
    public var sourceProfile = SourceProfile.Shape.gaussian
    public var logMuRange: [Double] = [-2, 2]
    public var bins = 80
    public var massFunction = MassFunction.Family.unit
    public var massRange: [Double] = [0.08, 1.0]
    public var compensateMeanField = true
    public var lightLoss = MapSettings.defaultLightLoss
    public var method = MapMethod.rayShooting
    public var threads = 1
    public var format = MagnificationMapFile.Format.h5

    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case kappa, gamma, s, sizeRE = "size_re", pixels, raysPerPixel = "rays_per_pixel", seed
        case sourceSizes = "source_sizes", sourceProfile = "source_profile", logMuRange = "log_mu_range", bins
        case massFunction = "mass_function", massRange = "mass_range", compensateMeanField = "compensate_mean_field"
        case lightLoss = "light_loss", method, threads, format
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .kappa: return "Convergence κ (>= 0)."
        case .gamma: return "Shear γ (>= 0), along the x axis."
        case .s: return "Smooth-matter fraction s = κ_smooth/κ, in [0, 1)."
        case .threads: return "Threads shooting rays (bands of the map; the result does not depend on it)."
        case .format: return "Map file in the run directory: h5 (map.h5, with histograms) or fits (map.fits)."
        case .sizeRE, .pixels, .raysPerPixel, .seed, .sourceSizes, .sourceProfile, .logMuRange, .bins, .massFunction,
             .massRange, .compensateMeanField, .lightLoss, .method:
            let grid = TableGridConfiguration.Key(rawValue: key.rawValue)!
            return TableGridConfiguration.describe(grid)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        kappa = try c.decodeIfPresent(Double.self, forKey: .kappa) ?? d.kappa
        gamma = try c.decodeIfPresent(Double.self, forKey: .gamma) ?? d.gamma
        s = try c.decodeIfPresent(Double.self, forKey: .s) ?? d.s
        sizeRE = try c.decodeIfPresent(Double.self, forKey: .sizeRE) ?? d.sizeRE
        pixels = try c.decodeIfPresent(Int.self, forKey: .pixels) ?? d.pixels
        raysPerPixel = try c.decodeIfPresent(Double.self, forKey: .raysPerPixel) ?? d.raysPerPixel
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        sourceSizes = try c.decodeIfPresent([Double].self, forKey: .sourceSizes) ?? d.sourceSizes
        sourceProfile = try c.decodeName(SourceProfile.Shape.self, forKey: .sourceProfile) ?? d.sourceProfile
        logMuRange = try c.decodeIfPresent([Double].self, forKey: .logMuRange) ?? d.logMuRange
        bins = try c.decodeIfPresent(Int.self, forKey: .bins) ?? d.bins
        massFunction = try c.decodeName(MassFunction.Family.self, forKey: .massFunction) ?? d.massFunction
        massRange = try c.decodeIfPresent([Double].self, forKey: .massRange) ?? d.massRange
        compensateMeanField = try c.decodeIfPresent(Bool.self, forKey: .compensateMeanField) ?? d.compensateMeanField
        lightLoss = try c.decodeIfPresent(Double.self, forKey: .lightLoss) ?? d.lightLoss
        method = try c.decodeName(MapMethod.self, forKey: .method) ?? d.method
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        format = try c.decodeName(MagnificationMapFile.Format.self, forKey: .format) ?? d.format
    }

    public func validate() throws {
        if !(kappa >= 0) { throw InvalidConfigValue(field: "kappa", reason: "must be >= 0, got \(kappa)") }
        if !(gamma >= 0) { throw InvalidConfigValue(field: "gamma", reason: "must be >= 0, got \(gamma)") }
        if !(s >= 0 && s < 1) { throw InvalidConfigValue(field: "s", reason: "must lie in [0, 1), got \(s)") }
        if threads < 1 { throw InvalidConfigValue(field: "threads", reason: "must be >= 1, got \(threads)") }
        do { try mapRecipe.validate() } catch let error as MapRecipe.InvalidSetting {
            throw InvalidConfigValue(field: error.key, reason: error.reason)
        }
    }

    /// The map and histogram settings.
    public var mapRecipe: MapRecipe {
        MapRecipe(sizeRE: sizeRE, pixels: pixels, raysPerPixel: raysPerPixel, massFunction: massFunction, massRange: massRange,
                  lightLoss: lightLoss, compensateMeanField: compensateMeanField, method: method, sourceSizes: sourceSizes,
                  sourceProfile: sourceProfile, logMuRange: logMuRange, bins: bins)
    }
}

/// One `tessera magmap` run inside its run directory: the map and its histograms, written by the
/// runner layer as `map.h5` or `map.fits` (`MagnificationMapFile`).
public enum MagMapRunner {
    /// Computes the map on the calling process and writes it into `context`'s run directory;
    /// returns the result and the map file's path.
    public static func run(_ c: MagMapConfiguration, context: RunContext) throws -> (output: TableCellComputer.Output, path: String) {
        let output = try TableCellComputer.run(kappa: c.kappa, gamma: c.gamma, s: c.s, recipe: c.mapRecipe, seed: c.seed,
                                               threads: c.threads)
        let path = context.file(c.format.fileName)
        try MagnificationMapFile.write(output, recipe: c.mapRecipe, format: c.format, to: path)
        return (output, path)
    }
}
