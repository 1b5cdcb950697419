/// Everything a table cell and `tessera magmap` share besides (κ, γ, s) and the seed: the map's
/// settings and its histograms, by the names a configuration uses. `validate` is the one check
/// of these values; the grid configuration and the command line both call it and report its
/// key in their own spelling (`light_loss` in a file, `--light-loss` on the command line).
/// Lengths in Einstein radii of a 1 M☉ star.
public struct MapRecipe: Sendable, Equatable, Hashable {
    /// Side of the source-plane map.
    public var sizeRE: Double
    /// Pixels per side.
    public var pixels: Int
    /// Rays (polygon mapping: grid squares) per source pixel for an unlensed source.
    public var raysPerPixel: Double
    public var massFunction: MassFunction.Family
    /// [minimum, maximum] stellar mass in M☉ (ignored for `.unit`).
    public var massRange: [Double]
    /// Light loss ε sizing the shooting region (`ShootingRegion`), in (0, 1).
    public var lightLoss: Double
    public var compensateMeanField: Bool
    public var method: MapMethod
    /// Source sizes of the histograms (0: the pixel-sized point source).
    public var sourceSizes: [Double]
    public var sourceProfile: SourceProfile.Shape
    /// [low, high] of the histograms in log10(μ/μ_theory).
    public var logMuRange: [Double]
    public var bins: Int

    public init(sizeRE: Double, pixels: Int, raysPerPixel: Double, massFunction: MassFunction.Family, massRange: [Double],
                lightLoss: Double, compensateMeanField: Bool, method: MapMethod, sourceSizes: [Double],
                sourceProfile: SourceProfile.Shape, logMuRange: [Double], bins: Int) {
        self.sizeRE = sizeRE
        self.pixels = pixels
        self.raysPerPixel = raysPerPixel
        self.massFunction = massFunction
        self.massRange = massRange
        self.lightLoss = lightLoss
        self.compensateMeanField = compensateMeanField
        self.method = method
        self.sourceSizes = sourceSizes
        self.sourceProfile = sourceProfile
        self.logMuRange = logMuRange
        self.bins = bins
    }

    /// A value that makes no sense; `key` is the configuration key (snake_case).
    public struct InvalidSetting: Error, Equatable, CustomStringConvertible {
        public let key: String
        public let reason: String
        public var description: String { "\(key): \(reason)" }
    }

    /// Throws `InvalidSetting` for the first value that cannot make a map and its histograms.
    public func validate() throws {
        func fail(_ key: String, _ reason: String) -> InvalidSetting { InvalidSetting(key: key, reason: reason) }
        if !(sizeRE > 0) { throw fail("size_re", "must be > 0") }
        if pixels < 2 { throw fail("pixels", "must be at least 2") }
        if !(raysPerPixel > 0) { throw fail("rays_per_pixel", "must be > 0") }
        if sourceSizes.isEmpty || sourceSizes.contains(where: { !($0 >= 0) }) {
            throw fail("source_sizes", "needs one or more sizes >= 0")
        }
        if logMuRange.count != 2 || !(logMuRange[0] < logMuRange[1]) {
            throw fail("log_mu_range", "must be [low, high] with low < high")
        }
        if bins < 1 { throw fail("bins", "must be >= 1") }
        do { _ = try massFunction.massFunction(range: massRange) } catch { throw fail("mass_function", "\(error)") }
        if !(lightLoss > 0 && lightLoss < 1) { throw fail("light_loss", "must lie in (0, 1), got \(lightLoss)") }
    }

    /// The map settings of this recipe with star-field seed `seed`.
    public func mapSettings(seed: UInt64) throws -> MapSettings {
        MapSettings(sizeRE: sizeRE, pixels: pixels, rayDensity: .perSourcePixel(raysPerPixel), seed: seed,
                    massFunction: try massFunction.massFunction(range: massRange), lightLoss: lightLoss,
                    compensateMeanField: compensateMeanField, method: method)
    }

    /// Histogram range as a closed range (valid after `validate`).
    public var logMuInterval: ClosedRange<Double> { logMuRange[0]...logMuRange[1] }
}
