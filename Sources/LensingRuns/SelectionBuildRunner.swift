import Foundation
import LensInference
import RunKit
import TesseraMPI
import TesseraRun
import WorkQueue

/// One η point of a selection build: its place in the design and what its Monte Carlo found.
public struct SelectionPoint: Codable, Sendable, Equatable {
    /// Node number (order of evaluation) and the Halton index its unit-box coordinates come from.
    public var index: Int, halton: Int
    /// 0 for the initial design, r for refinement round r.
    public var round: Int
    /// (α_sps, halo slope, halo normalisation, halo scatter).
    public var eta: [Double]
}

/// What a worker returns for a point; saved on rank 0 as `checkpoint/point-NNNNNN.json` as it arrives.
public struct SelectionPointResult: Codable, Sendable, Equatable {
    public var point: SelectionPoint
    /// Draws (of `draws`) selected at this η.
    public var selected: Int
    public var draws: Int
    public var seconds: Double
    public var rank: Int
}

/// What a selection build did, for the log and the tests.
public struct SelectionBuildSummary: Sendable, Equatable {
    public var points: Int
    public var rounds: Int
    public var computedNow: Int
    public var alreadyDone: Int
    public var converged: Bool
    public var achievedTolerance: Double
    public var file: String
}

/// A selection build stopped because points failed every attempt; `--resume` retries them.
public struct SelectionBuildIncomplete: Error, CustomStringConvertible {
    public let failedPoints: [Int]
    public var description: String {
        "selection build incomplete: point(s) \(failedPoints.map(String.init).joined(separator: ", ")) failed; fix the cause and rerun with --resume"
    }
}

/// `tessera selection build`: A(η) by Monte Carlo at η points spread over MPI ranks by the work queue, first a
/// Halton design over the box, then refinement rounds adding `points_per_round` points where the interpolant's
/// leave-one-out error is largest against `tolerance` × σ(ln A), until every node is within it or `max_points`
/// is reached. Rank 0 checkpoints every point as it arrives; the design and the refinement depend only on the
/// configuration and the (integer) counts, so a killed build resumed with `--resume` picks the same points and
/// a build on any number of ranks gives the same file bit for bit (apart from timings and ranks).
public enum SelectionBuildRunner {
    public typealias Checkpoints = JSONCheckpointDirectory<Int, SelectionPointResult>

    public static func checkpoints(runDirectory: String) -> Checkpoints {
        Checkpoints(directory: URL(fileURLWithPath: runDirectory).appendingPathComponent("checkpoint").path,
                    itemName: "point", prefix: "point-", digits: 6)
    }

    /// The Monte Carlo count of `SelectionFunction`: selected draws of 0..<draws of `seed` at η (α_sps, halo slope,
    /// halo normalisation, halo scatter), the other hyperparameters held at the population's.
    public static func monteCarlo(_ population: MockPopulation, draws: Int, seed: UInt64) -> ([Double]) throws -> Int {
        let selection = SelectionFunction(population: population, draws: draws, seed: seed)
        return { x in
            var eta = population.hyperparameters
            eta.inferred = x
            return try selection.indicators(eta).filter { $0 }.count
        }
    }

    /// Collective. `count` returns the number of selected draws at η (on workers).
    public static func run(_ config: LensPopulationConfiguration, context: RunContext, tableVersion: String,
                           count: @escaping ([Double]) throws -> Int,
                           log: @escaping (String) -> Void = { print($0) }) throws -> SelectionBuildSummary {
        let comm = context.communicator
        let store = checkpoints(runDirectory: context.directory)
        // The design, on every rank (cheap and deterministic); only rank 0 refines.
        var nodes: [SelectionPoint] = SelectionDesign.scale(SelectionDesign.halton(count: config.initialPoints, dimensions: 4),
                                                            lower: config.lower, upper: config.upper).enumerated().map {
            SelectionPoint(index: $0.offset, halton: $0.offset, round: 0, eta: $0.element)
        }
        var pool = Array(config.initialPoints..<(config.initialPoints + config.candidates))
        var results: [SelectionPointResult] = []
        var round = 0, computedNow = 0, alreadyDone = 0
        var selection: InterpolatedSelection?
        var stopReason = ""
        while true {
            let todo = Array(nodes[results.count...])
            var scheduler = try ResumableListScheduler(items: comm.isRoot ? todo : [], store: store, maxAttempts: config.maxAttempts,
                                                       key: { $0.index }, label: { "point \($0.index) (η = \($0.eta))" })
            if comm.isRoot {
                log("selection build: round \(round): \(todo.count) point(s), \(scheduler.alreadyDone) already done, \(scheduler.pending) to compute with \(config.draws) draws each")
            }
            var progress = ProgressLine(label: "selection build: round \(round)", total: scheduler.pending)
            let summary = try WorkQueue.run(communicator: comm, scheduler: &scheduler, progress: { p in
                progress.update(done: p.completed, elapsed: p.elapsed)
            }) { point in
                let start = Date()
                let k = try count(point.eta)
                return SelectionPointResult(point: point, selected: k, draws: config.draws,
                                            seconds: Date().timeIntervalSince(start), rank: comm.rank)
            }
            computedNow += summary?.completed ?? 0
            alreadyDone += scheduler.alreadyDone
            // Rank 0: read back every result (checkpoints are the truth), fit, and choose the next points.
            var next: [Int] = []
            var failed: [Int] = []
            if comm.isRoot {
                failed = scheduler.failures.map(\.item.index)
                for f in scheduler.failures { log("selection build: point \(f.item.index) failed \(config.maxAttempts) time(s): \(f.message)") }
                if failed.isEmpty {
                    for point in todo {
                        guard let r = try store.load(point.index) else {
                            throw RunDirectoryError.malformed(file: store.path(for: point.index), reason: "missing after the round")
                        }
                        guard r.point == point, r.draws == config.draws else {
                            throw RunDirectoryError.malformed(file: store.path(for: point.index),
                                                              reason: "holds point \(r.point) with \(r.draws) draws, this build needs \(point) with \(config.draws); it belongs to another configuration")
                        }
                        results.append(r)
                    }
                    let s = try InterpolatedSelection(version: config.selectionVersion, nodes: results.map(\.point.eta),
                                                      selected: results.map(\.selected), draws: config.draws,
                                                      lower: config.lower, upper: config.upper, toleranceFactor: config.tolerance)
                    selection = s
                    log("selection build: \(results.count) points, worst leave-one-out error \(String(format: "%.3g", s.achievedFactor)) σ (tolerance \(config.tolerance) σ)")
                    if s.converged {
                        stopReason = "converged: every node's leave-one-out error is within \(config.tolerance) σ(ln A)"
                    } else if results.count >= config.maxPoints {
                        stopReason = "point budget max_points = \(config.maxPoints) reached before the tolerance held (worst \(String(format: "%.3g", s.achievedFactor)) σ)"
                    } else {
                        let candidates = pool.map { SelectionDesign.halton(count: 1, start: $0, dimensions: 4)[0] }
                        let wanted = min(config.pointsPerRound, config.maxPoints - results.count)
                        next = SelectionDesign.refine(nodes: s.interpolant.unitNodes, errors: s.interpolant.leaveOneOutErrors,
                                                      tolerances: s.tolerances, candidates: candidates, count: wanted).map { pool[$0] }
                        if next.isEmpty { stopReason = "no candidate left near the nodes over tolerance (raise candidates)" }
                    }
                    if !stopReason.isEmpty { log("selection build: stopped: \(stopReason)") }
                }
            }
            failed = try comm.broadcast(failed.map(Int64.init), root: 0).map { Int($0) }
            if !failed.isEmpty { throw SelectionBuildIncomplete(failedPoints: failed) }
            next = try comm.broadcast(next.map(Int64.init), root: 0).map { Int($0) }
            if next.isEmpty { break }
            round += 1
            if comm.isRoot {
                pool.removeAll { next.contains($0) }
                let unit = next.map { SelectionDesign.halton(count: 1, start: $0, dimensions: 4)[0] }
                for (h, eta) in zip(next, SelectionDesign.scale(unit, lower: config.lower, upper: config.upper)) {
                    nodes.append(SelectionPoint(index: nodes.count, halton: h, round: round, eta: eta))
                }
            }
        }
        let path = context.file(SelectionTableFile.name)
        var summary = SelectionBuildSummary(points: 0, rounds: round + 1, computedNow: computedNow, alreadyDone: alreadyDone,
                                            converged: false, achievedTolerance: .nan, file: path)
        if comm.isRoot, let s = selection {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let record = SelectionTableFile.Record(
                selection: s, rounds: results.map { Int32($0.point.round) }, seconds: results.map(\.seconds),
                ranks: results.map { Int64($0.rank) }, magnificationTableVersion: tableVersion,
                magnificationTable: config.table, simId: config.simId, gitCommit: context.run?.metadata.gitCommit ?? "unknown",
                seed: config.seed, maxPoints: config.maxPoints, stopReason: stopReason,
                configurationJSON: String(decoding: try encoder.encode(config), as: UTF8.self))
            try SelectionTableFile.write(record, to: path)
            log("selection build: wrote \(path) (\(results.count) points, \(round + 1) round(s), \(s.converged ? "converged" : "NOT converged"))")
            summary.points = results.count
            summary.converged = s.converged
            summary.achievedTolerance = s.achievedFactor
        }
        try comm.barrier()
        return summary
    }
}
