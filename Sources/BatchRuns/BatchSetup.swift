import Foundation
import MEDSIO
import Stamps
import SystemPackage
import TesseraRun

/// `tessera batch setup`: each tile's neighbours and friends-of-friends groups, cut into chunks
/// of whole groups, each chunk a directory with its manifest and job scripts (see `BatchLayout`).
public enum BatchSetup {
    /// What setup learned about one tile before anything is written.
    public struct TilePlan: Sendable {
        public var name: String
        public var meds: String
        public var numbers: [Int64]
        public var neighbours: NeighbourList
        public var groups: FriendsOfFriends
        public var plan: ChunkPlan
    }

    /// Reads every tile and plans its chunks. Writes nothing, so a missing or broken tile (or two
    /// tiles with the same name) stops the setup before a run directory exists.
    public static func plan(_ c: BatchConfiguration, tiles: [String]) throws -> [TilePlan] {
        guard !tiles.isEmpty else { throw BatchError(file: "command line", detail: "no tiles given (MEDS files or pixel stores)") }
        var plans: [TilePlan] = []
        var seen: [String: String] = [:]
        for path in tiles {
            let absolute = RunPaths.absolute(path)
            guard FileManager.default.fileExists(atPath: absolute) else {
                throw BatchError(file: path, detail: TileInput.isPixelStore(path) ? "tile pixel store does not exist" : "tile MEDS file does not exist")
            }
            let name = BatchLayout.tileName(ofMEDS: path)
            if let other = seen[name] {
                throw BatchError(file: path, detail: "tile name '\(name)' is also that of \(other); tile names must differ")
            }
            seen[name] = path
            let tile = try TileInput(path: absolute, input: c.input)
            defer { try? tile.close() }
            guard tile.stamps.objectCount > 0 else { throw BatchError(file: path, detail: "object_data has no objects") }
            // (MEDSFile checks the layout when it opens: ncutout 0, truncated arrays, bad file_id;
            // a pixel-store tile checks its store, catalogue, band and PSFs.)
            let neighbours = try tile.neighbours(method: .stamps, buffer: c.neighbourBuffer)
            let groups = FriendsOfFriends(neighbours)
            plans.append(TilePlan(name: name, meds: absolute, numbers: tile.numbers, neighbours: neighbours, groups: groups,
                                  plan: ChunkPlan(groups: groups.members, chunkSize: c.chunkSize)))
        }
        return plans
    }

    /// Writes the planned run into `run` (an existing, empty run directory).
    public static func write(_ c: BatchConfiguration, plans: [TilePlan], run: String, tessera: String,
                             extraCommands: [String], log: (String) -> Void = { print($0) }) throws -> [TileRecord] {
        let layout = BatchLayout(run: run)
        let fm = FileManager.default
        try fm.createDirectory(atPath: layout.path(BatchLayout.logsDirectory), withIntermediateDirectories: true)
        var records: [TileRecord] = []
        var chunkList: [String] = []
        for t in plans {
            try fm.createDirectory(atPath: layout.path(t.name), withIntermediateDirectories: true)
            try MEDSGroups.writeNeighbourTable(t.neighbours, numbers: t.numbers, to: layout.path(BatchLayout.neighboursFile(tile: t.name)))
            try MEDSGroups.writeGroupTable(t.groups, numbers: t.numbers, to: layout.path(BatchLayout.groupsFile(tile: t.name)))
            var chunks: [String] = []
            for (i, groups) in t.plan.chunks.enumerated() {
                let dir = BatchLayout.chunkDirectory(tile: t.name, index: i)
                try fm.createDirectory(atPath: layout.path(dir), withIntermediateDirectories: true)
                var m = ChunkManifest()
                m.tile = t.name
                m.meds = t.meds
                m.index = i
                m.groups = groups
                m.fofids = groups.map { t.groups.groupOf[$0[0]] }
                m.seed = BatchSeeds.chunk(runSeed: c.seed, tile: t.name, index: i)
                m.batch = c
                try RunDirectory.writeJSON(m, to: layout.path("\(dir)/\(BatchLayout.manifestFile)"))
                try writeScript(BatchScripts.chunk(manifest: m, tessera: tessera, extraCommands: extraCommands), to: layout.path("\(dir)/run.sh"))
                try writeScript(BatchScripts.chunkJob(manifest: m, extraCommands: extraCommands), to: layout.path("\(dir)/job.sbatch"))
                chunks.append(dir)
            }
            chunkList += chunks
            let blended = t.groups.members.filter { $0.count > 1 }.reduce(0) { $0 + $1.count }
            records.append(TileRecord(name: t.name, meds: t.meds, objects: t.numbers.count, groups: t.groups.groupCount,
                                      blendedObjects: blended, chunks: chunks))
            log("batch setup: tile \(t.name): \(t.numbers.count) objects, \(t.groups.groupCount) groups (\(blended) objects blended), \(chunks.count) chunks")
        }
        try RunDirectory.writeJSON(records, to: layout.path(BatchLayout.tilesFile))
        try (chunkList.joined(separator: "\n") + "\n").write(toFile: layout.path(BatchLayout.chunkListFile), atomically: true, encoding: .utf8)
        let runName = FilePath(run).lastComponent?.string ?? "run"
        try writeScript(BatchScripts.array(runName: runName, chunkCount: chunkList.count, config: c, extraCommands: extraCommands),
                        to: layout.path(BatchLayout.arrayScript))
        log("batch setup: \(chunkList.count) chunks in \(run); next: tessera batch run \(run)")
        return records
    }

    /// The lines of the `extra_commands` file (nil path: none), checked before anything is written.
    public static func extraCommands(_ path: String) throws -> [String] {
        guard !path.isEmpty else { return [] }
        guard let text = try? String(contentsOfFile: RunPaths.absolute(path), encoding: .utf8) else {
            throw BatchError(file: path, detail: "extra_commands file cannot be read (config key 'extra_commands')")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).reversed()
            .drop(while: { $0.trimmingCharacters(in: .whitespaces).isEmpty }).reversed()
    }

    static func writeScript(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }
}

/// A batch-run problem that names the file (tile, chunk, catalog) and what is wrong with it.
public struct BatchError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let detail: String
    public init(file: String, detail: String) {
        self.file = file
        self.detail = detail
    }
    public var description: String { "\(file): \(detail)" }
}
