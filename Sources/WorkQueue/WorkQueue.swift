import Foundation
import Synchronization
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
///
/// A lost rank: OpenMPI (4.1) cannot keep a job going when one of its processes dies. The launcher
/// (mpirun and its daemons) notices, sends every remaining process SIGCONT, a second later SIGTERM,
/// and SIGKILL a second after that or as soon as any of them exits (measured: 4 ms after SIGTERM
/// when the workers died of it). While the queue runs, every rank catches that SIGTERM: the
/// master throws `WorkQueueStopped` at once, which names the items in flight and the ranks and
/// hosts that held them, so the run can record the stop and say what is kept; waiting workers
/// stay alive for `workerGrace` first, so as not to trigger the SIGKILL before the master is done.
/// mpirun's own message names the rank and host that died.
public enum WorkQueue {
    /// Tags used by the engine; runners must not use them for their own messages.
    public static let toMasterTag = 901
    public static let toWorkerTag = 902

    enum ToMaster<Item: Codable, Result: Codable>: Codable {
        case ready(host: String)
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

    /// Seconds a waiting worker lives on after SIGTERM, so that the master reports first.
    static let workerGrace = 0.5

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
        // What each busy worker holds, and every worker's host, for the message when the job is stopped.
        var busy: [Int: S.Item] = [:]
        var hosts: [Int: String] = [:]
        var stopped = 0
        let workers = comm.size - 1
        StopSignal.catchTerminate()
        defer { StopSignal.restore() }
        while stopped < workers {
            let info = try comm.waitForMessage(tag: .tag(toMasterTag)) {
                if let signal = StopSignal.received {
                    throw WorkQueueStopped(signal: signal, completed: summary.completed, inFlight: busy.keys.sorted().map {
                        WorkQueueStopped.Holding(rank: $0, host: hosts[$0] ?? "?", item: scheduler.label(of: busy[$0]!))
                    })
                }
            }
            let message = try comm.receive(message: ToMaster<S.Item, S.Result>.self, from: .rank(info.source),
                                           tag: .tag(toMasterTag))
            let rank = message.source
            busy[rank] = nil
            switch message.value {
            case let .ready(host):
                hosts[rank] = host
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
                    busy[worker] = item
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
        let host = (try? MPIEnvironment.processorName()) ?? ProcessInfo.processInfo.hostName
        try comm.send(message: ToMaster<Item, Result>.ready(host: host), to: 0, tag: toMasterTag)
        let delay = testingDelay
        // A worker outlives the launcher's SIGTERM by `workerGrace`: OpenMPI sends SIGKILL to
        // every rank as soon as one of them exits, so a worker that died at once would cut the
        // master off before it has recorded and said what was in flight.
        StopSignal.catchTerminate()
        defer { StopSignal.restore() }
        var stopSeen: Date?
        while true {
            _ = try comm.waitForMessage(from: .rank(0), tag: .tag(toWorkerTag), maxSleep: 0.002) {
                guard let signal = StopSignal.received else { return }
                let seen = stopSeen ?? Date()
                stopSeen = seen
                if Date().timeIntervalSince(seen) >= workerGrace {
                    throw WorkQueueStopped(signal: signal, completed: 0, inFlight: [])
                }
            }
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

/// The launcher stopped the job (SIGTERM) while the master was handing out work: OpenMPI does
/// this to every process when one rank or its host is lost, SLURM at a time limit or `scancel`.
/// Results that came back before the stop were already given to the scheduler (and saved, for a
/// resumable scheduler); the items in flight were not.
public struct WorkQueueStopped: Error, CustomStringConvertible, Sendable {
    /// An item a worker held when the job was stopped.
    public struct Holding: Sendable, Equatable {
        public let rank: Int
        public let host: String
        public let item: String
        public init(rank: Int, host: String, item: String) {
            self.rank = rank
            self.host = host
            self.item = item
        }
    }

    public let signal: Int32
    /// Results checked in during this run (before the stop).
    public let completed: Int
    public let inFlight: [Holding]

    public init(signal: Int32, completed: Int, inFlight: [Holding]) {
        self.signal = signal
        self.completed = completed
        self.inFlight = inFlight
    }

    public var signalName: String { signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal \(signal)" }

    public var description: String {
        let held = inFlight.isEmpty ? "none"
            : inFlight.map { "rank \($0.rank) on host \($0.host): \($0.item)" }.joined(separator: "; ")
        return "the launcher stopped the job (\(signalName)) after \(completed) result(s) came back in this run "
            + "(mpirun stops every rank when one rank or its host is lost, and its message names it)\n  in flight, not saved: \(held)"
    }
}

/// SIGTERM caught while the master loop runs (and only then: elsewhere it keeps its default action).
enum StopSignal {
    private static let caught = Atomic<Int32>(0)

    static var received: Int32? {
        let value = caught.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    static func catchTerminate() {
        caught.store(0, ordering: .relaxed)
        _ = signal(SIGTERM) { number in
            StopSignal.caught.store(number, ordering: .relaxed)
            // A second SIGTERM ends the process at once.
            _ = signal(SIGTERM, SIG_DFL)
        }
    }

    static func restore() {
        _ = signal(SIGTERM, SIG_DFL)
    }
}
