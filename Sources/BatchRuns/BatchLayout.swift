import Foundation
import SystemPackage
import TesseraRun

/// Where everything of a batch run lives, relative to the run directory RUN, so that a whole run
/// can be moved (or copied to another file system) and still be verified, resumed and collated.
///
///     RUN/params.json, metadata.json   the setup's configuration and provenance
///     RUN/tiles.json                   one `TileRecord` per tile (MEDS file, counts, chunks)
///     RUN/chunks.txt                   chunk directories, one per line; SLURM array task i = line i+1
///     RUN/array.sbatch                 the SLURM job array over chunks.txt
///     RUN/logs/                        job logs (SLURM: <array job>_<task>.log; local: chunk-<i>.log)
///     RUN/<tile>/neighbours.fits       the tile's neighbour list (EXTNAME nbrs: number, nbr_number)
///     RUN/<tile>/groups.fits           its friends-of-friends groups (EXTNAME fofs: fofid, number)
///     RUN/<tile>/chunk-NNNN/chunk.json the chunk's manifest (objects, groups, seed, configuration)
///     RUN/<tile>/chunk-NNNN/run.sh     runs the chunk with mpirun (workstations, and the SLURM scripts)
///     RUN/<tile>/chunk-NNNN/job.sbatch submits this chunk alone
///     RUN/<tile>/chunk-NNNN/fit/       the chunk's run directory: per-group results, catalog.fits
///     RUN/<tile>/<tile>-catalog.fits   `collate`: the tile's catalog, one row per object
///     RUN/output/                      `link`: links to every tile's collated files
///     RUN/logs.tar.gz                  `archive`: the logs
///
/// MEDS files stay where they are (they are inputs, not part of the run) and are recorded with
/// absolute paths.
public struct BatchLayout: Sendable {
    public let run: String

    public init(run: String) { self.run = run }

    public static let tilesFile = "tiles.json"
    public static let chunkListFile = "chunks.txt"
    public static let arrayScript = "array.sbatch"
    public static let logsDirectory = "logs"
    public static let outputDirectory = "output"
    public static let archiveFile = "logs.tar.gz"
    public static let resubmitFile = "resubmit.txt"
    public static let manifestFile = "chunk.json"
    public static let fitDirectory = "fit"
    public static let chunkCatalog = "catalog.fits"
    public static let chunkSamples = "samples.h5"

    public func path(_ relative: String) -> String { FilePath(run).appending(relative).string }

    /// RUN-relative directory of chunk `index` of `tile`.
    public static func chunkDirectory(tile: String, index: Int) -> String {
        "\(tile)/chunk-\(String(format: "%04d", index))"
    }

    public static func groupsFile(tile: String) -> String { "\(tile)/groups.fits" }
    public static func neighboursFile(tile: String) -> String { "\(tile)/neighbours.fits" }
    public static func tileCatalog(tile: String) -> String { "\(tile)/\(tile)-catalog.fits" }
    public static func tileSamples(tile: String) -> String { "\(tile)/\(tile)-samples.h5" }

    /// The tile name of a MEDS file: its file name without `.fits`, `.fits.fz` or `.fz` (a pixel
    /// store's without `.h5`), and
    /// without a `-meds`/`_meds` suffix (DES: `DES0123-4567_r1234p01_i_meds-Y6A1.fits.fz` keeps the
    /// band and tag, as ngmixer's tile names do).
    public static func tileName(ofMEDS path: String) -> String {
        var name = FilePath(path).lastComponent?.string ?? path
        for suffix in [".fz", ".fits", ".gz", ".h5", ".hdf5"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        for suffix in ["-meds", "_meds"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name
    }
}

/// One tile of a batch run, as `tiles.json` lists it.
public struct TileRecord: Codable, Sendable, Equatable {
    public var name: String
    /// Absolute path of the tile's input: a MEDS file or a pixel store (`TileInput`).
    public var meds: String
    public var objects: Int
    public var groups: Int
    /// Objects in groups of two or more.
    public var blendedObjects: Int
    /// RUN-relative chunk directories, in chunk order.
    public var chunks: [String]
}

/// A chunk's manifest (`chunk.json`): everything `tessera batch chunk` needs, so a chunk can be
/// run (or rerun) on its own. It is also the chunk run's configuration (its `params.json`).
public struct ChunkManifest: Configuration, Equatable {
    public var tile = ""
    /// Absolute path of the tile's input: a MEDS file or a pixel store (`TileInput`).
    public var meds = ""
    public var index = 0
    /// The chunk's groups (0-based object rows of the MEDS file), in fitting order.
    public var groups: [[Int]] = []
    /// The tile's friends-of-friends id of each group (as in `groups.fits`).
    public var fofids: [Int] = []
    /// The chunk's seed, derived from the run seed (recorded; group seeds are derived independently).
    public var seed: UInt64 = 0
    /// The batch run's configuration.
    public var batch = BatchConfiguration()
    public init() {}

    public var objects: [Int] { groups.flatMap { $0 }.sorted() }

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable { case tile, meds, index, groups, fofids, seed, batch }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .tile: return "Tile name."
        case .meds: return "Absolute path of the tile's input: a MEDS file, or a pixel store (.h5)."
        case .index: return "Chunk number within the tile (0-based)."
        case .groups: return "Friends-of-friends groups of this chunk: lists of 0-based MEDS object rows."
        case .fofids: return "The tile's friends-of-friends id of each group."
        case .seed: return "The chunk's seed, derived from the run seed."
        case .batch: return "The batch run's configuration (`tessera config batch`)."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        tile = try c.decode(String.self, forKey: .tile)
        meds = try c.decode(String.self, forKey: .meds)
        index = try c.decode(Int.self, forKey: .index)
        groups = try c.decode([[Int]].self, forKey: .groups)
        fofids = try c.decode([Int].self, forKey: .fofids)
        seed = try c.decode(UInt64.self, forKey: .seed)
        batch = try c.decode(BatchConfiguration.self, forKey: .batch)
    }

    public func validate() throws {
        if fofids.count != groups.count { throw InvalidConfigValue(field: "fofids", reason: "one per group (\(groups.count)), not \(fofids.count)") }
        if groups.isEmpty { throw InvalidConfigValue(field: "groups", reason: "a chunk needs at least one group") }
        let all = groups.flatMap { $0 }
        if Set(all).count != all.count { throw InvalidConfigValue(field: "groups", reason: "an object appears in two groups") }
        if all.contains(where: { $0 < 0 }) { throw InvalidConfigValue(field: "groups", reason: "object rows are 0-based and >= 0") }
        try batch.validate()
    }
}
