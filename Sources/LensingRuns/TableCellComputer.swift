import Foundation
import Microlensing

/// Computes one table cell: the point-source magnification map of (κ, γ, s) with the cell's
/// seed, its finite-source versions, and their log10(μ/μ_theory) histograms. `tessera magmap`
/// calls the same function, so a table row can be checked against a map made on its own.
public enum TableCellComputer {
    /// The maps and histograms of one cell.
    public struct Output {
        /// Point-source map.
        public var map: MagnificationMap
        /// One PDF per source size (density per unit log10(μ/μ_theory)), flattened [size][bin].
        public var pdf: [Double]
        public var seconds: Double
    }

    /// Map settings of a cell from the grid configuration.
    public static func settings(sizeRE: Double, pixels: Int, raysPerPixel: Double, seed: UInt64,
                                massFunction: MassFunction = .unit, lightLoss: Double = MapSettings.defaultLightLoss,
                                compensateMeanField: Bool = true, method: MapMethod = .rayShooting) -> MapSettings {
        MapSettings(sizeRE: sizeRE, pixels: pixels, rayDensity: .perSourcePixel(raysPerPixel), seed: seed,
                    massFunction: massFunction, lightLoss: lightLoss, compensateMeanField: compensateMeanField, method: method)
    }

    /// A mass function by name ("unit", "salpeter", "kroupa") with [minimum, maximum] in M☉.
    public static func massFunction(_ name: String, range: [Double]) throws -> MassFunction {
        let function: MassFunction
        switch name {
        case "unit": return .unit
        case "salpeter", "kroupa":
            guard range.count == 2 else {
                throw MicrolensingError.invalidParameter(name: "mass_range", value: Double(range.count), requirement: "must be [minimum, maximum]")
            }
            function = name == "salpeter" ? .salpeter(minimum: range[0], maximum: range[1]) : .kroupa(minimum: range[0], maximum: range[1])
        default:
            throw MicrolensingError.invalidParameter(name: "mass_function", value: .nan, requirement: "must be unit, salpeter or kroupa, got '\(name)'")
        }
        try function.validate()
        return function
    }

    /// The finite-source profile of a size (nil for size 0, the point source).
    public static func profile(_ name: String, size: Double) -> SourceProfile? {
        guard size > 0 else { return nil }
        return name == "disk" ? .disk(radius: size) : .gaussian(sigma: size)
    }

    /// Shoot the map and histogram it for every source size.
    public static func run(kappa: Double, gamma: Double, s: Double, settings: MapSettings, sourceSizes: [Double],
                           profile: String, logMuRange: ClosedRange<Double>, bins: Int, threads: Int = 1) throws -> Output {
        let start = Date()
        let model = try MacroModel(kappa: kappa, gamma: gamma, smoothFraction: s)
        let map = try makeMagnificationMap(model: model, settings: settings, threads: threads)
        let profiles = sourceSizes.compactMap { self.profile(profile, size: $0) }
        var convolved = try map.convolved(withEach: profiles)[...]
        var pdf: [Double] = []
        for size in sourceSizes {
            let m = size > 0 ? convolved.removeFirst() : map
            pdf += try MagnificationHistogram(map: m, range: logMuRange, bins: bins, variable: .log10RelativeMagnification).pdf
        }
        return Output(map: map, pdf: pdf, seconds: Date().timeIntervalSince(start))
    }

    /// The file a kept map of cell `index` goes to, inside the run's `maps/` directory.
    public static func mapPath(directory: String, index: Int) -> String {
        (directory as NSString).appendingPathComponent(String(format: "cell-%06d.h5", index))
    }

    /// One cell of a tabulation; with `mapDirectory` its point-source map is also saved there
    /// (`MagnificationMapFile`, named by `mapPath`).
    public static func compute(_ cell: TableGridConfiguration.Cell, configuration c: TableGridConfiguration,
                               mapDirectory: String? = nil) throws -> CellResult {
        let out = try run(kappa: cell.kappa, gamma: cell.gamma, s: cell.s,
                          settings: settings(sizeRE: c.sizeRE, pixels: c.pixels, raysPerPixel: c.raysPerPixel, seed: cell.seed,
                                             massFunction: try massFunction(c.massFunction, range: c.massRange),
                                             lightLoss: c.lightLoss, compensateMeanField: c.compensateMeanField,
                                             method: try c.mapMethod()),
                          sourceSizes: c.sourceSizes, profile: c.sourceProfile,
                          logMuRange: c.logMuRange[0]...c.logMuRange[1], bins: c.bins)
        if let mapDirectory {
            try FileManager.default.createDirectory(atPath: mapDirectory, withIntermediateDirectories: true)
            try MagnificationMapFile.write(map: out.map, pdf: out.pdf, sourceSizes: c.sourceSizes, sourceProfile: c.sourceProfile,
                                           logMuRange: c.logMuRange[0]...c.logMuRange[1], bins: c.bins,
                                           facts: MagnificationMapFile.facts(map: out.map, massFunction: c.massFunction,
                                                                             massRange: c.massRange, lightLoss: c.lightLoss,
                                                                             seconds: out.seconds),
                                           to: mapPath(directory: mapDirectory, index: cell.index))
        }
        return CellResult(index: cell.index, pdf: out.pdf, meanMagnification: out.map.mean,
                          theoryMagnification: out.map.theoreticalMagnification, rays: Int64(out.map.raysShot),
                          stars: Int64(out.map.starCount), seed: cell.seed, seconds: out.seconds, rank: 0)
    }
}
