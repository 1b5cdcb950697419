import XCTest
import TesseraMPI
@testable import WorkQueue

/// The engine on one rank (the serial path). Its multi-rank path is exercised by
/// `tessera selftest` and the runners' mpirun tests in MultiRankTests.
final class WorkQueueTests: XCTestCase {
    struct Boom: Error, CustomStringConvertible { let id: Int; var description: String { "item \(id) failed" } }

    func testEveryItemCompletesOnceWithResults() throws {
        let comm = try MPIEnvironment.initialize()
        var results: [Int: Int] = [:]
        var scheduler = ListScheduler<Int, Int>(items: Array(0..<20), key: { $0 }) { item, result, rank, _ in
            XCTAssertEqual(rank, 0)
            XCTAssertNil(results[item], "item \(item) completed twice")
            results[item] = result
        }
        var progress: [Int] = []
        let summary = try WorkQueue.run(communicator: comm, scheduler: &scheduler, progress: { progress.append($0.completed) }) { $0 * $0 }
        XCTAssertEqual(summary?.completed, 20)
        XCTAssertEqual(results, Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, $0 * $0) }))
        XCTAssertEqual(progress, Array(1...20))
        XCTAssertTrue(scheduler.isFinished)
    }

    func testFailedItemsAreRetriedThenGivenUp() throws {
        let comm = try MPIEnvironment.initialize()
        var attempts: [Int: Int] = [:]
        var done: [Int] = []
        var scheduler = ListScheduler<Int, Int>(items: [1, 2, 3], maxAttempts: 3, key: { $0 }) { item, _, _, _ in done.append(item) }
        let summary = try WorkQueue.run(communicator: comm, scheduler: &scheduler) { item -> Int in
            attempts[item, default: 0] += 1
            if item == 2 && attempts[item]! < 2 { throw Boom(id: 2) }  // fails once, then works
            if item == 3 { throw Boom(id: 3) }                          // always fails
            return item
        }
        XCTAssertEqual(done.sorted(), [1, 2])
        XCTAssertEqual(attempts, [1: 1, 2: 2, 3: 3])
        XCTAssertEqual(summary?.failedAttempts, 4)
        XCTAssertEqual(scheduler.failures.map(\.item), [3])
        XCTAssertEqual(scheduler.failures.first?.message, "item 3 failed")
    }

    func testErrorSavingAResultStopsTheRun() throws {
        let comm = try MPIEnvironment.initialize()
        struct DiskFull: Error {}
        var scheduler = ListScheduler<Int, Int>(items: [1, 2], key: { $0 }) { _, _, _, _ in throw DiskFull() }
        XCTAssertThrowsError(try WorkQueue.run(communicator: comm, scheduler: &scheduler) { $0 }) { error in
            XCTAssertTrue(error is DiskFull)
        }
    }

    struct NeverScheduler: WorkScheduler {
        mutating func nextItem(for rank: Int) -> Int? { nil }
        var isFinished: Bool { false }
        mutating func complete(_ item: Int, result: Int, rank: Int, seconds: Double) throws {}
        mutating func fail(_ item: Int, message: String, rank: Int) throws {}
    }

    func testStalledSchedulerIsAnError() throws {
        let comm = try MPIEnvironment.initialize()
        var scheduler = NeverScheduler()
        XCTAssertThrowsError(try WorkQueue.run(communicator: comm, scheduler: &scheduler) { $0 }) { error in
            XCTAssertTrue(error is WorkQueue.StalledError)
        }
    }

    func testProgressText() {
        XCTAssertEqual(ProgressLine.format(label: "cells", done: 10, total: 40, elapsed: 5), "cells 10/40 (25%), 2/s, ETA 15 s")
        XCTAssertEqual(ProgressLine.format(label: "cells", done: 40, total: 40, elapsed: 200), "cells 40/40 (100%), 0.2/s, 3 min")
        XCTAssertEqual(ProgressLine.format(label: "cells", done: 0, total: 4, elapsed: 0), "cells 0/4 (0%)")
    }

    /// The master's SIGTERM catch (armed only while it hands out work): a SIGTERM is recorded,
    /// not fatal, and a second one would end the process (the handler restores the default).
    func testStopSignalIsRecordedWhileArmed() {
        StopSignal.catchTerminate()
        XCTAssertNil(StopSignal.received)
        raise(SIGTERM)
        XCTAssertEqual(StopSignal.received, SIGTERM)
        StopSignal.restore()
    }

    func testStoppedQueueNamesItemsInFlight() {
        let stopped = WorkQueueStopped(signal: SIGTERM, completed: 3, inFlight: [.init(rank: 2, host: "nodeB", item: "halo 17")])
        XCTAssertEqual("\(stopped)", """
            the launcher stopped the job (SIGTERM) after 3 result(s) came back in this run (mpirun stops every rank \
            when one rank or its host is lost, and its message names it)
              in flight, not saved: rank 2 on host nodeB: halo 17
            """)
    }

    func testSchedulersLabelTheirItems() throws {
        let list = ListScheduler<String, Int>(items: ["a"], key: { _ in 0 }) { _, _, _, _ in }
        XCTAssertEqual(list.label(of: "halo-001.h5"), "halo-001.h5")
        XCTAssertEqual(list.label(of: String(repeating: "x", count: 200)).count, 120)
    }
}
