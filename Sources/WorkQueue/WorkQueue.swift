import Foundation
import TesseraMPI

/// Counts reported by the master at the end of a run.
public struct WorkQueueSummary: Sendable, Equatable {
    public var completed: Int
    public var failedAttempts: Int
    public var seconds: Double
}

/// Progress after each result, for a progress line or log.
public struct WorkProgress: Sendable {
    public var completed: Int
    public var failedAttempts: Int
    public var elapsed: Double
}

/// The generic rank-0 master / worker-ranks engine under every Tessera runner.
///
/// Rank 0 runs the scheduler and never computes (unless it is the only rank); every other rank
/// asks for an item, computes it, returns the result and asks again, until told to stop. Items
/// of very different cost are therefore balanced automatically. A worker that throws reports the
/// error and takes the next item; the scheduler decides whether to retry. The master waits with
/// `waitForMessage`, sleeping between polls, so on a 2-core laptop it does not steal a core.
///
/// Finished work is kept by the scheduler on the master, not by the engine: a
/// `ResumableListScheduler` saves each result through a `CheckpointStore` as it arrives and skips
/// the items it lists as finished; the scene runner snapshots its whole state instead
/// (`SnapshotStore`). See `CheckpointStore.swift`.
///
/// Messages are Codable values in Tessera's versioned envelope, on two tags reserved here.
public enum WorkQueue {
    /// Tags used by the engine; runners must not use them for their own messages.
    public static let toMasterTag = 901
    public static let toWorkerTag = 902

    enum ToMaster<Item: Codable, Result: Codable>: Codable {
        case ready
        case done(item: Item, result: Result, seconds: Double)
        case failed(item: Item, message: String)
    }

    enum ToWorker<Item: Codable>: Codable {
        case work(Item)
        case stop
    }

    /// Seconds a worker waits before each item when `TESSERA_TEST_WORK_DELAY` is set: a testing
    /// aid that stretches a small job so that a kill-and-resume test can stop it partway
    /// whatever the speed of the build. Never set it in production.
    static var testingDelay: Double {
        ProcessInfo.processInfo.environment["TESSERA_TEST_WORK_DELAY"].flatMap(Double.init).map { min(max($0, 0), 10) } ?? 0
    }

    /// A scheduler that cannot hand out anything although it is not finished and no worker is busy.
    public struct StalledError: Error, CustomStringConvertible {
        public var description: String { "work queue stalled: the scheduler has no item to hand out, none in flight, and is not finished" }
    }

    /// Run the queue on every rank of `communicator`. `scheduler` is used on rank 0 only (other
    /// ranks may pass any value, e.g. an empty one); `work` runs on workers (on rank 0 too when
    /// it is the only rank). Returns the summary on rank 0 and nil elsewhere.
    @discardableResult
    public static func run<S: WorkScheduler>(
        communicator comm: Communicator, scheduler: inout S,
        progress: ((WorkProgress) -> Void)? = nil,
        work: (S.Item) throws -> S.Result
    ) throws -> WorkQueueSummary? {
        if comm.size == 1 {
            return try runSerially(scheduler: &scheduler, progress: progress, work: work)
        }
        if comm.isRoot {
            return try runMaster(comm, scheduler: &scheduler, progress: progress)
        }
        try runWorker(comm, item: S.Item.self, result: S.Result.self, work: work)
        return nil
    }

    static func runSerially<S: WorkScheduler>(scheduler: inout S, progress: ((WorkProgress) -> Void)?,
                                             work: (S.Item) throws -> S.Result) throws -> WorkQueueSummary {
        let start = Date()
        var summary = WorkQueueSummary(completed: 0, failedAttempts: 0, seconds: 0)
        while !scheduler.isFinished {
            guard let item = scheduler.nextItem(for: 0) else { throw StalledError() }
            let t0 = Date()
            let outcome: Swift.Result<S.Result, any Error>
            do { outcome = .success(try work(item)) } catch { outcome = .failure(error) }
            switch outcome {
            case let .success(result):
                summary.completed += 1
                try scheduler.complete(item, result: result, rank: 0, seconds: Date().timeIntervalSince(t0))
            case let .failure(error):
                summary.failedAttempts += 1
                try scheduler.fail(item, message: "\(error)", rank: 0)
            }
            progress?(WorkProgress(completed: summary.completed, failedAttempts: summary.failedAttempts,
                                   elapsed: Date().timeIntervalSince(start)))
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    static func runMaster<S: WorkScheduler>(_ comm: Communicator, scheduler: inout S,
                                           progress: ((WorkProgress) -> Void)?) throws -> WorkQueueSummary {
        let start = Date()
        var summary = WorkQueueSummary(completed: 0, failedAttempts: 0, seconds: 0)
        var idle: [Int] = []
        var busy = Set<Int>()
        var stopped = 0
        let workers = comm.size - 1
        while stopped < workers {
            let info = try comm.waitForMessage(tag: .tag(toMasterTag))
            let message = try comm.receive(message: ToMaster<S.Item, S.Result>.self, from: .rank(info.source),
                                           tag: .tag(toMasterTag))
            let rank = message.source
            busy.remove(rank)
            switch message.value {
            case .ready:
                break
            case let .done(item, result, seconds):
                summary.completed += 1
                try scheduler.complete(item, result: result, rank: rank, seconds: seconds)
            case let .failed(item, text):
                summary.failedAttempts += 1
                try scheduler.fail(item, message: text, rank: rank)
            }
            if case .ready = message.value {} else {
                progress?(WorkProgress(completed: summary.completed, failedAttempts: summary.failedAttempts,
                                       elapsed: Date().timeIntervalSince(start)))
            }
            idle.append(rank)
            // Hand out work to every idle worker that can get some; stop them all once finished.
            var stillIdle: [Int] = []
            for worker in idle {
                if let item = scheduler.nextItem(for: worker) {
                    try comm.send(message: ToWorker<S.Item>.work(item), to: worker, tag: toWorkerTag)
                    busy.insert(worker)
                } else if scheduler.isFinished {
                    try comm.send(message: ToWorker<S.Item>.stop, to: worker, tag: toWorkerTag)
                    stopped += 1
                } else {
                    stillIdle.append(worker)
                }
            }
            idle = stillIdle
            if busy.isEmpty && !idle.isEmpty && stopped + idle.count == workers && !scheduler.isFinished {
                for worker in idle { try comm.send(message: ToWorker<S.Item>.stop, to: worker, tag: toWorkerTag) }
                throw StalledError()
            }
        }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    static func runWorker<Item: Codable & Sendable, Result: Codable & Sendable>(
        _ comm: Communicator, item: Item.Type, result: Result.Type, work: (Item) throws -> Result
    ) throws {
        try comm.send(message: ToMaster<Item, Result>.ready, to: 0, tag: toMasterTag)
        let delay = testingDelay
        while true {
            _ = try comm.waitForMessage(from: .rank(0), tag: .tag(toWorkerTag), maxSleep: 0.002)
            let order = try comm.receive(message: ToWorker<Item>.self, from: .rank(0), tag: .tag(toWorkerTag)).value
            guard case let .work(item) = order else { return }
            if delay > 0 { usleep(UInt32(delay * 1e6)) }
            let t0 = Date()
            let reply: ToMaster<Item, Result>
            do {
                reply = .done(item: item, result: try work(item), seconds: Date().timeIntervalSince(t0))
            } catch {
                reply = .failed(item: item, message: "\(error)")
            }
            try comm.send(message: reply, to: 0, tag: toMasterTag)
        }
    }
}
