import Foundation
import Microlensing
import SystemPackage

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

    /// Shoot the map of (κ, γ, s) with `recipe` and star-field seed `seed`, and histogram it.
    public static func run(kappa: Double, gamma: Double, s: Double, recipe: MapRecipe, seed: UInt64,
                           threads: Int = 1) throws -> Output {
        try run(kappa: kappa, gamma: gamma, s: s, settings: try recipe.mapSettings(seed: seed), sourceSizes: recipe.sourceSizes,
                profile: recipe.sourceProfile, logMuRange: recipe.logMuInterval, bins: recipe.bins, threads: threads)
    }

    /// Shoot the map and histogram it for every source size.
    public static func run(kappa: Double, gamma: Double, s: Double, settings: MapSettings, sourceSizes: [Double],
                           profile: SourceProfile.Shape, logMuRange: ClosedRange<Double>, bins: Int, threads: Int = 1) throws -> Output {
        let start = Date()
        let model = try MacroModel(kappa: kappa, gamma: gamma, smoothFraction: s)
        let map = try makeMagnificationMap(model: model, settings: settings, threads: threads)
        let profiles = sourceSizes.compactMap { profile.profile(size: $0) }
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
        FilePath(directory).appending(String(format: "cell-%06d.h5", index)).string
    }

    /// One cell of a tabulation; with `mapDirectory` its point-source map is also saved there
    /// (`MagnificationMapFile`, named by `mapPath`).
    public static func compute(_ cell: TableGridConfiguration.Cell, configuration c: TableGridConfiguration,
                               mapDirectory: String? = nil) throws -> CellResult {
        let out = try run(kappa: cell.kappa, gamma: cell.gamma, s: cell.s, recipe: c.mapRecipe, seed: cell.seed)
        if let mapDirectory {
            try FileManager.default.createDirectory(atPath: mapDirectory, withIntermediateDirectories: true)
            try MagnificationMapFile.write(out, recipe: c.mapRecipe, to: mapPath(directory: mapDirectory, index: cell.index))
        }
        return CellResult(index: cell.index, pdf: out.pdf, meanMagnification: out.map.mean,
                          theoryMagnification: out.map.theoreticalMagnification, rays: Int64(out.map.raysShot),
                          stars: Int64(out.map.starCount), seed: cell.seed, seconds: out.seconds, rank: 0)
    }
}
