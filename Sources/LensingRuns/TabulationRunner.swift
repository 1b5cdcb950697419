import Foundation
import RunKit
import TesseraMPI
import TesseraRun
import WorkQueue

/// What a tabulation did, for the log and the tests.
public struct TabulationSummary: Sendable, Equatable {
    public var cells: Int
    public var skippedCritical: Int
    /// Cells found finished in the checkpoints when the run started (a resume).
    public var alreadyDone: Int
    public var computedNow: Int
    public var failed: [Int]
    public var table: String
}

/// `tessera tabulate`: magnification distributions for every cell of a (κ, γ, s) lattice, spread
/// over MPI ranks by the master/worker engine, checkpointed per cell on rank 0, and written to one
/// parallel HDF5 table at the end. A killed run resumed with `--resume` computes only the cells
/// without a checkpoint.
public enum TabulationRunner {
    /// Collective. `compute` turns a cell into its result (on workers).
    public static func run(_ config: TableGridConfiguration, context: RunContext,
                           compute: @escaping (TableGridConfiguration.Cell) throws -> CellResult,
                           log: @escaping (String) -> Void = { print($0) }) throws -> TabulationSummary {
        let comm = context.communicator
        let checkpoints = CellCheckpoints(runDirectory: context.directory)
        let cells = config.cells
        let skipped = cells.filter { !$0.computable }.count

        // Rank 0 decides what is left to do (from the checkpoints); the others get their cells from it.
        var scheduler = try ResumableListScheduler(items: comm.isRoot ? cells.filter(\.computable) : [], store: checkpoints,
                                                   maxAttempts: config.maxAttempts, key: { $0.index },
                                                   label: { "cell \($0.index) (κ=\($0.kappa), γ=\($0.gamma), s=\($0.s))" })
        if comm.isRoot {
            log("tabulate: \(cells.count) cells (\(skipped) skipped near the critical line), \(scheduler.alreadyDone) already done, \(scheduler.pending) to compute on \(max(comm.size - 1, 1)) worker(s)")
        }
        var progress = ProgressLine(label: "tabulate: cells", total: scheduler.pending)
        var failedCells: [Int] = []
        let summary = try WorkQueue.run(communicator: comm, scheduler: &scheduler, progress: { p in
            progress.update(done: p.completed, elapsed: p.elapsed)
        }) { cell in
            var result = try compute(cell)
            result.rank = comm.rank
            return result
        }
        if comm.isRoot {
            failedCells = scheduler.failures.map(\.item.index)
            for failure in scheduler.failures {
                log("tabulate: cell \(failure.item.index) (κ=\(failure.item.kappa), γ=\(failure.item.gamma), s=\(failure.item.s)) failed \(config.maxAttempts) time(s): \(failure.message)")
            }
        }
        // Everyone writes the final table from the checkpoints (collective).
        let tablePath = context.file(MagnificationTableFile.name)
        try MagnificationTableFile.write(config: config, checkpoints: checkpoints, to: tablePath, communicator: comm)
        failedCells = try comm.broadcast(failedCells.map(Int64.init), root: 0).map { Int($0) }
        if comm.isRoot {
            log("tabulate: wrote \(tablePath) (\(scheduler.alreadyDone + (summary?.completed ?? 0)) of \(cells.count - skipped) computable cells)")
        }
        return TabulationSummary(cells: cells.count, skippedCritical: skipped, alreadyDone: scheduler.alreadyDone,
                                 computedNow: summary?.completed ?? 0, failed: failedCells, table: tablePath)
    }
}

/// Some cells failed every attempt; the table marks them missing (status −1) and `--resume`
/// retries them.
public struct TabulationIncomplete: Error, CustomStringConvertible {
    public let failedCells: [Int]
    public init(failedCells: [Int]) { self.failedCells = failedCells }
    public var description: String {
        "tabulation incomplete: cell(s) \(failedCells.map(String.init).joined(separator: ", ")) failed; fix the cause and rerun with --resume"
    }
}
