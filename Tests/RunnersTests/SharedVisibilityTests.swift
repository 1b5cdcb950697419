import Foundation
import TesseraMPI
import TesseraRun
import TesseraTestSupport
import WorkQueue
import XCTest
@testable import RunKit

/// The start-up check that every rank sees the run directory and the inputs as rank 0 does: the
/// verdict on gathered views (with fake ranks that see nothing), and the token's life on one rank.
final class SharedVisibilityTests: XCTestCase {
    typealias View = SharedVisibility.View

    let probe = SharedVisibility.Probe(directory: "/shared/run", tokenName: ".tessera-visibility-X", token: "T",
                                       inputs: ["/shared/grid.yaml", "/shared/pixels.h5"],
                                       expected: ["120 bytes", "4096 bytes"])

    func seesAll(_ host: String) -> View { View(host: host, directory: .same, inputs: ["120 bytes", "4096 bytes"]) }

    func testEveryRankSeeingTheSameIsNoProblem() {
        XCTAssertNil(SharedVisibility.problem(probe: probe, views: [seesAll("nodeA"), seesAll("nodeA"), seesAll("nodeB")]))
    }

    func testHostThatSeesNothingIsNamedWithItsRanks() throws {
        let blind = View(host: "nodeB", directory: .missing, inputs: [nil, nil])
        let message = try XCTUnwrap(SharedVisibility.problem(probe: probe, views: [seesAll("nodeA"), seesAll("nodeA"), blind, blind]))
        XCTAssertEqual(message, """
            run directory /shared/run is not visible from host nodeB (ranks 2, 3): no such directory there; \
            input /shared/grid.yaml differs on host nodeB (ranks 2, 3): it cannot be read there (rank 0 on nodeA sees 120 bytes); \
            input /shared/pixels.h5 differs on host nodeB (ranks 2, 3): it cannot be read there (rank 0 on nodeA sees 4096 bytes); \
            put run directories and inputs on a file system every node mounts (see README "Running on clusters")
            """)
    }

    func testDifferentFolderAndDifferentSizeAreToldApart() throws {
        let local = View(host: "nodeC", directory: .different, inputs: ["120 bytes", "512 bytes"])
        let message = try XCTUnwrap(SharedVisibility.problem(probe: probe, views: [seesAll("nodeA"), local]))
        XCTAssertTrue(message.contains("run directory /shared/run is not visible from host nodeC (rank 1): a different folder of that name is there"), message)
        XCTAssertTrue(message.contains("input /shared/pixels.h5 differs on host nodeC (rank 1): it has 512 bytes there, rank 0 on nodeA sees 4096 bytes"), message)
        XCTAssertFalse(message.contains("grid.yaml"), message)
    }

    func testRanksOfOneHostThatDifferDifferentlyAreGroupedApart() throws {
        let missing = View(host: "nodeB", directory: .missing, inputs: ["120 bytes", "4096 bytes"])
        let other = View(host: "nodeB", directory: .different, inputs: ["120 bytes", "4096 bytes"])
        let message = try XCTUnwrap(SharedVisibility.problem(probe: probe, views: [seesAll("nodeA"), missing, other, missing]))
        XCTAssertTrue(message.contains("from host nodeB (ranks 1, 3): no such directory there"), message)
        XCTAssertTrue(message.contains("from host nodeB (rank 2): a different folder"), message)
    }

    func testUncheckedDirectoryAndInputsRankZeroCannotSeeAreSkipped() {
        var skipped = probe
        skipped.directory = nil
        skipped.expected = [nil, "4096 bytes"]
        let view = View(host: "nodeB", directory: .unchecked, inputs: [nil, "4096 bytes"])
        XCTAssertNil(SharedVisibility.problem(probe: skipped, views: [seesAll("nodeA"), view]))
    }

    func testRankListsCompressRuns() {
        XCTAssertEqual(SharedVisibility.rankList([3]), "rank 3")
        XCTAssertEqual(SharedVisibility.rankList([2, 3]), "ranks 2, 3")
        XCTAssertEqual(SharedVisibility.rankList([4, 5, 6, 7, 9, 11, 12]), "ranks 4-7, 9, 11, 12")
    }

    func testFingerprints() throws {
        let dir = try makeTemporaryDirectory(prefix: "visibility")
        try Data(repeating: 7, count: 1234).write(to: URL(fileURLWithPath: dir.path("a.bin")))
        try FileManager.default.createDirectory(atPath: dir.path("halos"), withIntermediateDirectories: false)
        try Data().write(to: URL(fileURLWithPath: dir.path("halos/h1")))
        XCTAssertEqual(SharedVisibility.fingerprint(dir.path("a.bin")), "1234 bytes")
        XCTAssertEqual(SharedVisibility.fingerprint(dir.path("halos")), "a folder of 1 entries")
        XCTAssertNil(SharedVisibility.fingerprint(dir.path("none")))
    }

    /// The token: written by `prepare`, read back by `observe`, told apart from another folder of
    /// the same name or none, and removed.
    func testTokenIsWrittenReadAndRemoved() throws {
        let dir = try makeTemporaryDirectory(prefix: "visibility")
        let input = dir.path("grid.yaml")
        try "seed: 1\n".write(toFile: input, atomically: true, encoding: .utf8)
        let probe = SharedVisibility.prepare(directory: dir.path, inputs: [input])
        XCTAssertEqual(probe.directory, dir.path)
        XCTAssertTrue(probe.tokenName.hasPrefix(SharedVisibility.tokenPrefix))
        XCTAssertEqual(try String(contentsOfFile: dir.path(probe.tokenName), encoding: .utf8), probe.token)
        XCTAssertEqual(probe.expected, ["8 bytes"])
        XCTAssertEqual(SharedVisibility.observe(probe, host: "here"), View(host: "here", directory: .same, inputs: ["8 bytes"]))

        // Another folder at that path (what a node-local directory looks like), and none at all.
        let elsewhere = try makeTemporaryDirectory(prefix: "visibility-other")
        var moved = probe
        moved.directory = elsewhere.path
        XCTAssertEqual(SharedVisibility.observe(moved, host: "b", patience: 0).directory, .different)
        moved.directory = elsewhere.path("absent")
        XCTAssertEqual(SharedVisibility.observe(moved, host: "b", patience: 0).directory, .missing)

        SharedVisibility.removeToken(probe)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["grid.yaml"])
    }

    /// The collective check on one rank (MPI singleton): passes, returns the host, leaves nothing.
    func testCheckOnOneRankLeavesTheDirectoryAsItWas() throws {
        let comm = try MPIEnvironment.initialize()
        let dir = try makeTemporaryDirectory(prefix: "visibility")
        try "x".write(toFile: dir.path("in.txt"), atomically: true, encoding: .utf8)
        let start = Date()
        let hosts = try SharedVisibility.check(directory: dir.path, inputs: [dir.path("in.txt")], communicator: comm)
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
        XCTAssertEqual(hosts.count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["in.txt"])
    }

    /// RunContext runs the check: a new run directory holds only params.json and metadata.json.
    func testRunContextLeavesNoToken() throws {
        let comm = try MPIEnvironment.initialize()
        let dir = try makeTemporaryDirectory(prefix: "visibility")
        let run = dir.path("run")
        let context = try RunContext.start(command: "selftest", configuration: SelfTestConfiguration(), output: run, seed: 1,
                                           libraries: LibraryVersions(), communicator: comm)
        try context.finish()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run).sorted(), ["metadata.json", "params.json"])
        // Resuming it checks again and still leaves nothing behind.
        let resumed = try RunContext.start(command: "selftest", configuration: SelfTestConfiguration(), output: run, seed: 1,
                                           libraries: LibraryVersions(), communicator: comm, resume: true)
        try resumed.finish()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run).sorted(), ["metadata.json", "params.json"])
    }

    /// The collective configuration loader: rank 0 reads, every rank parses the same text.
    func testCollectiveConfigLoaderMatchesTheSerialOne() throws {
        let comm = try MPIEnvironment.initialize()
        let dir = try makeTemporaryDirectory(prefix: "visibility")
        let file = dir.path("selftest.yaml")
        try "values_per_rank: 17\nseed: 3\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ConfigLoader.load(SelfTestConfiguration.self, from: file, communicator: comm),
                       try ConfigLoader.load(SelfTestConfiguration.self, from: file))
        assertThrows(ConfigError.missingFile(file: dir.path("none.yaml"))) {
            try ConfigLoader.load(SelfTestConfiguration.self, from: dir.path("none.yaml"), communicator: comm)
        }
    }

    /// What a stopped run says: the items in flight by rank and host, where the kept results are,
    /// and the command that continues it.
    func testInterruptedRunSaysWhatIsKeptAndHowToContinue() {
        let stopped = WorkQueueStopped(signal: SIGTERM, completed: 5, inFlight: [
            .init(rank: 1, host: "nodeB", item: "cell 7 (κ=0.2, γ=0.1, s=0.5)"), .init(rank: 2, host: "nodeA", item: "cell 8"),
        ])
        let text = "\(RunInterrupted(stopped: stopped, directory: "/shared/run", command: "tabulate", resumable: true))"
        XCTAssertTrue(text.hasPrefix("the launcher stopped the job (SIGTERM) after 5 result(s) came back in this run"), text)
        XCTAssertTrue(text.contains("in flight, not saved: rank 1 on host nodeB: cell 7 (κ=0.2, γ=0.1, s=0.5); rank 2 on host nodeA: cell 8"), text)
        XCTAssertTrue(text.contains("kept: every result checked in before the stop, in /shared/run"), text)
        XCTAssertTrue(text.contains("continue with: tessera tabulate --resume /shared/run"), text)
        let once = "\(RunInterrupted(stopped: stopped, directory: "/r", command: "selftest", resumable: false))"
        XCTAssertTrue(once.contains("`tessera selftest` cannot resume: run it again"), once)
    }
}
