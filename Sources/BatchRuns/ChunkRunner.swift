import Foundation
import MEDSIO
import RunKit
import SceneFitting
import SceneModel
import Stamps
import StampFitting
import SystemPackage
import TesseraFITS
import TesseraRun
import TesseraSupport
import WorkQueue

/// `tessera batch chunk CHUNK_DIR`: fits the chunk's friends-of-friends groups, spread over the
/// MPI ranks by the work queue (rank 0 hands out groups, workers fit them), each group's result
/// saved as it arrives (`fit/groups/group-<first row>.json`), so a killed chunk resumes with
/// nothing lost or fitted twice. Ends with `fit/catalog.fits`, one row per object.
public enum ChunkRunner {
    public static let groupsDirectory = "groups"

    public struct Summary: Sendable, Equatable {
        public var groups: Int
        public var alreadyDone: Int
        public var fittedNow: Int
        public var failedGroups: [Int]
    }

    /// The result of one group, as checkpointed.
    public struct GroupResult: Codable, Sendable, Equatable {
        public var first: Int
        public var fofid: Int
        public var objects: [ObjectFit]
        public var seconds: Double
        public var rank: Int
    }

    public static func run(_ m: ChunkManifest, context: RunContext,
                           log: @escaping (String) -> Void = { print($0) }) throws -> Summary {
        let comm = context.communicator
        let kind = StampFitterKind(rawValue: m.batch.fitter)!
        let settings = m.batch.fit.settings
        let store = JSONCheckpointDirectory<Int, GroupResult>(
            directory: context.file(groupsDirectory), itemName: "group",
            fileName: { "group-\(String(format: "%07d", $0)).json" },
            key: { name in name.hasPrefix("group-") ? Int(name.dropFirst(6).dropLast(5)) : nil })
        // Items are group positions in the manifest; a group's checkpoint is keyed by its first row,
        // which does not depend on how the tile was chunked.
        let groups = m.groups
        var scheduler = try ResumableListScheduler(items: Array(groups.indices), store: store, maxAttempts: 2,
                                                   key: { groups[$0].min()! }, label: { "group of row \(groups[$0].min()!)" })
        let total = m.groups.count, done = scheduler.alreadyDone
        if comm.isRoot {
            log("batch chunk \(m.tile)/\(m.index): \(m.objects.count) objects in \(total) groups, \(done) already done, fitter \(m.batch.fitter), \(max(comm.size - 1, 1)) worker(s)")
        }
        let sersic = try SersicMixture.bundled()
        // Workers open the tile (MEDS file or pixel store) once, on first use.
        var tile: TileInput?
        var progress = ProgressLine(label: "batch chunk: groups", total: scheduler.pending)
        let summary = try WorkQueue.run(communicator: comm, scheduler: &scheduler, progress: { p in
            progress.update(done: p.completed, elapsed: p.elapsed)
        }) { g in
            let group = groups[g]
            let start = Date()
            if tile == nil { tile = try TileInput(path: m.meds, input: m.batch.input) }
            let input = tile!.stamps
            let members = try group.map {
                GroupMember(index: $0, object: try input.object($0), epochs: try input.epochs(ofObject: $0), coaddFirst: input.coaddFirst)
            }
            let first = group.min()!
            let seed = BatchSeeds.group(runSeed: m.batch.seed, tile: m.tile, first: first)
            let objects = try StampFitter.fit(group: members, kind: kind, settings: settings, sersic: sersic, seed: seed)
            return GroupResult(first: first, fofid: m.fofids[g], objects: objects,
                               seconds: Date().timeIntervalSince(start), rank: comm.rank)
        }
        var failed: [Int] = []
        if comm.isRoot {
            failed = scheduler.failures.map { groups[$0.item].min()! }
            for f in scheduler.failures { log("batch chunk: group of row \(groups[f.item].min()!) failed: \(f.message)") }
            if failed.isEmpty {
                let results = try m.groups.map { g -> GroupResult in
                    guard let r = try store.load(g.min()!) else {
                        throw BatchError(file: store.path(for: g.min()!), detail: "group result missing after the queue finished")
                    }
                    return r
                }
                try writeCatalog(results, to: context.file(BatchLayout.chunkCatalog))
                if let samples = sampleFile(results) {
                    try samples.write(to: context.file(BatchLayout.chunkSamples))
                    log("batch chunk: wrote \(context.file(BatchLayout.chunkSamples)) (\(samples.drawCount) draws per object)")
                }
                log("batch chunk: wrote \(context.file(BatchLayout.chunkCatalog))")
            }
        }
        failed = try comm.broadcast(message: comm.isRoot ? failed : nil)
        if !failed.isEmpty {
            throw BatchError(file: context.directory, detail: "\(failed.count) group(s) failed (first rows \(failed.map(String.init).joined(separator: ", "))); rerun the chunk to retry them")
        }
        return Summary(groups: total, alreadyDone: done, fittedNow: summary?.completed ?? 0, failedGroups: failed)
    }

    /// The chunk's draws (nil unless some object was sampled), objects ordered by row.
    static func sampleFile(_ results: [GroupResult]) -> SampleFile? {
        let objects = results.flatMap(\.objects).sorted { $0.index < $1.index }
        guard let n = objects.compactMap({ $0.draws?.count }).max(), n > 0 else { return nil }
        let columns = CatalogColumns.names(bands: ["flux"], isPoint: false)
        var values: [Double] = []
        for o in objects {
            if let d = o.draws, d.count == n { values += d.flatMap { $0 } } else { values += [Double](repeating: .nan, count: n * columns.count) }
        }
        return SampleFile(rows: objects.map { Int64($0.index) }, columns: columns, drawCount: n, draws: values)
    }

    /// The chunk catalog: one row per object, ordered by MEDS row. Columns (units): `row` (0-based
    /// MEDS row), `id`, `number`, `fofid`, `group_size`, `ra`, `dec` (deg), `flux` (image counts),
    /// `q`, `pa` (rad), `sersic`, `rhalf` (arcsec, major axis), each with `_err` (ra/dec errors in
    /// arcsec), `chi2`, `npix`, `n_pass`, `converged`, `flags` (`StampFitFlags`), and for NUTS
    /// `r_hat`, `ess`, `divergences` (NaN/-1 for the other fitters). Unfitted values are NaN,
    /// with the reason in `flags`.
    public static func writeCatalog(_ results: [GroupResult], to path: String) throws {
        var rows: [(ObjectFit, GroupResult)] = []
        for r in results { for o in r.objects { rows.append((o, r)) } }
        rows.sort { $0.0.index < $1.0.index }
        let names = CatalogColumns.names(bands: ["flux"], isPoint: false)
        let nan = Double.nan
        var columns: [FITSColumn] = [
            .int64("row", rows.map { Int64($0.0.index) }), .int64("id", rows.map { $0.0.id }), .int64("number", rows.map { $0.0.number }),
            .int64("fofid", rows.map { Int64($0.1.fofid) }), .int32("group_size", rows.map { Int32($0.1.objects.count) }),
        ]
        for (c, name) in names.enumerated() {
            columns.append(.double(name, rows.map { $0.0.source.map { CatalogColumns.values($0)[c] } ?? nan }))
            columns.append(.double(name + "_err", rows.map { $0.0.source == nil ? nan : ($0.0.errors[name] ?? nan) }))
        }
        columns += [
            .double("chi2", rows.map { $0.0.chi2 ?? nan }), .int32("npix", rows.map { Int32($0.0.pixels) }),
            .int32("n_pass", rows.map { Int32($0.0.passes) }), .bool("converged", rows.map { $0.0.converged }),
            .int32("flags", rows.map { Int32($0.0.flags) }),
            .double("r_hat", rows.map { $0.0.rHat ?? nan }), .double("ess", rows.map { $0.0.ess ?? nan }),
            .int32("divergences", rows.map { Int32($0.0.divergences ?? -1) }),
        ]
        try writeReplacing(path) { partial in
            let f = try FITSFile(creatingAt: partial, overwrite: true)
            try f.appendTable(columns, extname: "CATALOG")
            try f.close()
        }
    }
}
