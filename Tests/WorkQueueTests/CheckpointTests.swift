import Foundation
import TesseraMPI
import XCTest
@testable import WorkQueue

/// The checkpoint stores and the resumable scheduler, on one rank (the serial engine path); the
/// runners' kill-and-resume tests in MultiRankTests cover the multi-rank path.
final class CheckpointTests: XCTestCase {
    struct Square: Codable, Sendable, Equatable { var n: Int; var square: Int }
    struct Boom: Error, CustomStringConvertible { let id: Int; var description: String { "item \(id) failed" } }

    var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wq-\(UUID().uuidString)").path
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func makeStore() -> JSONCheckpointDirectory<Int, Square> {
        JSONCheckpointDirectory(directory: directory + "/checkpoint", itemName: "item", prefix: "item-", digits: 4)
    }

    func files() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/checkpoint")) ?? []).sorted()
    }

    // MARK: JSONCheckpointDirectory

    func testSaveListAndLoad() throws {
        let store = makeStore()
        XCTAssertEqual(try store.finishedKeys(), [], "no directory yet: nothing finished")
        XCTAssertNil(try store.load(3))
        try store.save(Square(n: 3, square: 9), for: 3)
        try store.save(Square(n: 12345, square: 0), for: 12345)
        XCTAssertEqual(files(), ["item-0003.json", "item-12345.json"])
        XCTAssertEqual(try store.finishedKeys(), [3, 12345])
        XCTAssertEqual(try store.load(3), Square(n: 3, square: 9))
        XCTAssertNil(try store.load(4))
        // Pretty, key-sorted JSON with a final newline, as RunDirectory.writeJSON writes.
        let text = try String(contentsOfFile: store.path(for: 3), encoding: .utf8)
        XCTAssertEqual(text, "{\n  \"n\" : 3,\n  \"square\" : 9\n}\n")
    }

    func testFilesThatAreNotCheckpointsAreIgnored() throws {
        let store = makeStore()
        try store.save(Square(n: 1, square: 1), for: 1)
        for name in ["item-0002.json.partial", "notes.txt", "item-x.json", "other-0005.json"] {
            try "x".write(toFile: directory + "/checkpoint/" + name, atomically: false, encoding: .utf8)
        }
        XCTAssertEqual(try store.finishedKeys(), [1])
    }

    func testSavingReplacesAtomicallyAndLeavesNoPartialFile() throws {
        let store = makeStore()
        try store.save(Square(n: 2, square: 0), for: 2)
        try store.save(Square(n: 2, square: 4), for: 2)
        XCTAssertEqual(try store.load(2), Square(n: 2, square: 4))
        XCTAssertEqual(files(), ["item-0002.json"])
    }

    func testDamagedCheckpointIsAnErrorNamingTheFile() throws {
        let store = makeStore()
        try store.save(Square(n: 7, square: 49), for: 7)
        try "{ \"n\": 7, ".write(toFile: store.path(for: 7), atomically: false, encoding: .utf8)
        XCTAssertEqual(try store.finishedKeys(), [7], "a damaged file still counts as finished: it is reported, not recomputed over")
        XCTAssertThrowsError(try store.load(7)) { error in
            guard case let .damaged(file, reason)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, store.path(for: 7))
            XCTAssertTrue(reason.hasPrefix("unreadable item checkpoint ("), reason)
            XCTAssertTrue(reason.hasSuffix("; delete it to recompute the item"), reason)
            XCTAssertTrue("\(error)".hasPrefix(store.path(for: 7) + ": "))
        }
    }

    // MARK: JSONSnapshotFile

    struct State: Codable, Equatable, ResumeSnapshot {
        var total: Double
        var checkedIn: [Int]
        var finishedKeys: [Int] { checkedIn }
    }

    func testSnapshotSaveLoadAndFinishedKeys() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = JSONSnapshotFile<State>(path: directory + "/state.json", what: "test state")
        XCTAssertFalse(store.exists)
        XCTAssertNil(try store.load())
        XCTAssertEqual(try store.finishedKeys(), [])
        try store.save(State(total: 1.5, checkedIn: [0, 2]))
        try store.save(State(total: 2.5, checkedIn: [0, 2, 1]))
        XCTAssertTrue(store.exists)
        XCTAssertEqual(try store.load(), State(total: 2.5, checkedIn: [0, 2, 1]))
        XCTAssertEqual(try store.finishedKeys(), [0, 1, 2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["state.json"])
        try "[1, 2".write(toFile: store.path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try store.load()) { error in
            XCTAssertTrue("\(error)".hasPrefix(store.path + ": unreadable test state ("), "\(error)")
        }
    }

    // MARK: ResumableListScheduler through WorkQueue.run

    func testRunSavesEveryResultAndResumeSkipsFinishedItems() throws {
        let comm = try MPIEnvironment.initialize()
        let store = makeStore()
        // A first run that saved items 0, 2 and 5 before it was killed.
        for n in [0, 2, 5] { try store.save(Square(n: n, square: n * n), for: n) }
        let before = try [0, 2, 5].map { try Data(contentsOf: URL(fileURLWithPath: store.path(for: $0))) }

        var computed: [Int] = []
        var scheduler = try ResumableListScheduler(items: Array(0..<8), store: store, key: { $0 })
        XCTAssertEqual(scheduler.alreadyDone, 3)
        XCTAssertEqual(scheduler.pending, 5)
        let summary = try WorkQueue.run(communicator: comm, scheduler: &scheduler) { n -> Square in
            computed.append(n)
            return Square(n: n, square: n * n)
        }
        XCTAssertEqual(computed, [1, 3, 4, 6, 7], "only the unfinished items, in order")
        XCTAssertEqual(summary?.completed, 5)
        XCTAssertEqual(scheduler.completed, 5)
        XCTAssertEqual(try store.finishedKeys(), Set(0..<8))
        for n in 0..<8 { XCTAssertEqual(try store.load(n), Square(n: n, square: n * n)) }
        XCTAssertEqual(try [0, 2, 5].map { try Data(contentsOf: URL(fileURLWithPath: store.path(for: $0))) }, before,
                       "saved items were rewritten")

        // Resuming a finished run does nothing.
        var again = try ResumableListScheduler(items: Array(0..<8), store: store, key: { $0 })
        XCTAssertEqual(again.alreadyDone, 8)
        XCTAssertEqual(again.pending, 0)
        let none = try WorkQueue.run(communicator: comm, scheduler: &again) { n -> Square in
            XCTFail("item \(n) computed again"); return Square(n: n, square: 0)
        }
        XCTAssertEqual(none?.completed, 0)
    }

    func testFailedItemIsNotMarkedDoneAndIsRetriedOnResume() throws {
        let comm = try MPIEnvironment.initialize()
        let store = makeStore()
        var scheduler = try ResumableListScheduler(items: [1, 2, 3], store: store, maxAttempts: 2, key: { $0 })
        let summary = try WorkQueue.run(communicator: comm, scheduler: &scheduler) { n -> Square in
            if n == 2 { throw Boom(id: 2) }
            return Square(n: n, square: n * n)
        }
        XCTAssertEqual(summary?.failedAttempts, 2)
        XCTAssertEqual(scheduler.failures.map(\.item), [2])
        XCTAssertEqual(scheduler.failures.first?.message, "item 2 failed")
        XCTAssertEqual(try store.finishedKeys(), [1, 3])
        XCTAssertNil(try store.load(2))

        // The resume tries the failed item again, and only that one.
        var resumed = try ResumableListScheduler(items: [1, 2, 3], store: store, maxAttempts: 2, key: { $0 })
        XCTAssertEqual(resumed.alreadyDone, 2)
        var computed: [Int] = []
        try WorkQueue.run(communicator: comm, scheduler: &resumed) { n -> Square in
            computed.append(n)
            return Square(n: n, square: n * n)
        }
        XCTAssertEqual(computed, [2])
        XCTAssertEqual(try store.finishedKeys(), [1, 2, 3])
    }

    func testKeysOtherThanTheItemAndNonIntegerKeys() throws {
        // String keys and items that are not their key (as the halo fits: a path keyed by halo id).
        let comm = try MPIEnvironment.initialize()
        let store = JSONCheckpointDirectory<String, Square>(
            directory: directory + "/named", itemName: "entry", fileName: { "entry-\($0).json" },
            key: { $0.hasPrefix("entry-") ? String($0.dropFirst(6).dropLast(5)) : nil })
        try store.save(Square(n: 1, square: 1), for: "b")
        var scheduler = try ResumableListScheduler(items: ["in/a.txt", "in/b.txt", "in/c.txt"], store: store, key: {
            String($0.dropFirst(3).dropLast(4))
        })
        XCTAssertEqual(scheduler.alreadyDone, 1)
        var computed: [String] = []
        try WorkQueue.run(communicator: comm, scheduler: &scheduler) { path -> Square in
            computed.append(path)
            return Square(n: path.count, square: 0)
        }
        XCTAssertEqual(computed, ["in/a.txt", "in/c.txt"])
        XCTAssertEqual(try store.finishedKeys(), ["a", "b", "c"])
    }

    func testErrorSavingAResultStopsTheRun() throws {
        let comm = try MPIEnvironment.initialize()
        var scheduler = try ResumableListScheduler(items: [1, 2], store: makeStore(), key: { $0 })
        // Then the checkpoint "directory" becomes a file, so no result can be saved.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "x".write(toFile: directory + "/checkpoint", atomically: false, encoding: .utf8)
        var computed = 0
        XCTAssertThrowsError(try WorkQueue.run(communicator: comm, scheduler: &scheduler) { n -> Square in
            computed += 1
            return Square(n: n, square: n)
        }) { error in
            XCTAssertTrue("\(error)".hasPrefix(self.directory + "/checkpoint: cannot write (cannot create the checkpoint directory"), "\(error)")
        }
        XCTAssertEqual(computed, 1, "the run stopped at the first result it could not save")
    }

    func testDuplicateKeysAreRejected() throws {
        XCTAssertThrowsError(try ResumableListScheduler(items: [1, 2, 1], store: makeStore(), key: { $0 })) { error in
            XCTAssertTrue(error is ResumableListScheduler<Int, JSONCheckpointDirectory<Int, Square>>.DuplicateKeyError)
        }
    }

    /// A store that must not be read.
    struct UnreadableStore: CheckpointStore {
        struct Touched: Error {}
        func finishedKeys() throws -> Set<Int> { throw Touched() }
        func save(_ value: Square, for key: Int) throws { throw Touched() }
        func load(_ key: Int) throws -> Square? { throw Touched() }
    }

    func testNoItemsReadsNoCheckpoint() throws {
        // Worker ranks pass no items and must not touch the store.
        XCTAssertThrowsError(try ResumableListScheduler(items: [1], store: UnreadableStore(), key: { $0 }))
        let scheduler = try ResumableListScheduler(items: [Int](), store: UnreadableStore(), key: { $0 })
        XCTAssertEqual(scheduler.alreadyDone, 0)
        XCTAssertTrue(scheduler.isFinished)
    }
}
