import Foundation
import XCTest
import TesseraHDF5
import TesseraSupport

/// Real multi-rank runs: `mpirun -np 2` and `-np 4` of `tessera selftest`, checked from outside
/// (HDF5 read-back here, h5dump, the run directory's JSON files).
final class SelfTestRunTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// What rank r must have generated: n standard normals from stream r of `seed`, computed here
    /// independently of the job.
    func expected(seed: UInt64, rank: Int, n: Int) -> [Double] {
        var g = RandomSource(seed: seed, stream: UInt64(rank))
        return (0..<n).map { _ in g.normal() }
    }

    /// Bit-exact equality of two arrays, reporting the first difference rather than both arrays.
    func assertSame(_ got: [Double], _ want: [Double], _ what: String, line: UInt = #line) {
        guard got.count == want.count else {
            return XCTFail("\(what): \(got.count) values, expected \(want.count)", line: line)
        }
        if let i = got.indices.first(where: { got[$0].bitPattern != want[$0].bitPattern }) {
            XCTFail("\(what): value \(i) is \(got[i]), expected \(want[i])", line: line)
        }
    }

    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// Numbers of one dataset as h5dump prints them (17 significant digits: exact for doubles).
    func h5dumpValues(_ file: String, dataset: String) throws -> [Double] {
        let result = try Launcher.runProcess(["h5dump", "-d", dataset, "-m", "%.17g", "-w", "0", "-y", file])
        XCTAssertEqual(result.status, 0, result.stderr)
        guard let open = result.stdout.range(of: "DATA {"),
              let close = result.stdout.range(of: "}", range: open.upperBound..<result.stdout.endIndex) else {
            XCTFail("unexpected h5dump output: \(result.stdout)")
            return []
        }
        return result.stdout[open.upperBound..<close.lowerBound]
            .split(whereSeparator: { $0 == "," || $0.isWhitespace }).compactMap { Double($0) }
    }

    /// Check a finished selftest run directory value by value.
    func verifyRun(_ run: String, ranks: Int, n: Int, seed: UInt64, transfer: String) throws {
        let file = try HDF5File.open(run + "/selftest.h5")
        let sent = try file.read(Double.self, from: "/ring/sent")
        let received = try file.read(Double.self, from: "/ring/received")
        XCTAssertEqual(sent.shape, [ranks, n])
        XCTAssertEqual(received.shape, [ranks, n])
        var allExpected: [Double] = []
        for r in 0..<ranks {
            let mine = expected(seed: seed, rank: r, n: n)
            let left = expected(seed: seed, rank: (r + ranks - 1) % ranks, n: n)
            assertSame(Array(sent.values[(r * n)..<((r + 1) * n)]), mine, "row \(r) of /ring/sent")
            assertSame(Array(received.values[(r * n)..<((r + 1) * n)]), left, "row \(r) of /ring/received")
            allExpected += left
        }
        XCTAssertEqual(try file.read(Int64.self, from: "/ring/source_rank").values,
                       (0..<ranks).map { Int64(($0 + ranks - 1) % ranks) })
        // Every work-queue item was computed exactly once, by a worker (never the master).
        let queueRanks = try file.read(Int64.self, from: "/queue/rank").values
        XCTAssertEqual(queueRanks.count, 4 * (ranks - 1))
        XCTAssertTrue(queueRanks.allSatisfy { (1..<Int64(ranks)).contains($0) }, "\(queueRanks)")
        XCTAssertEqual(try file.attribute("mpi_size"), .int(Int64(ranks)))
        XCTAssertEqual(try file.attribute("transfer"), .string(transfer))
        try file.close()

        // The same values as h5dump, an independent reader, prints them.
        assertSame(try h5dumpValues(run + "/selftest.h5", dataset: "/ring/received"), allExpected, "h5dump of /ring/received")

        let metadata = try json(run + "/metadata.json")
        XCTAssertEqual(metadata["mpi_size"] as? Int, ranks)
        XCTAssertEqual((metadata["hosts"] as? [String])?.count, ranks)
        XCTAssertEqual(metadata["status"] as? String, "finished")
        XCTAssertEqual(metadata["command"] as? String, "selftest")
        XCTAssertEqual((metadata["seed"] as? NSNumber)?.uint64Value, seed)
        XCTAssertNotNil(metadata["end_time"] as? String)
        if ProcessInfo.processInfo.environment["TESSERA_GIT_COMMIT"] == nil {
            XCTAssertEqual((metadata["git_commit"] as? String)?.count, 40, "git commit of the working tree")
        }
        let params = try json(run + "/params.json")
        XCTAssertEqual(params["values_per_rank"] as? Int, n)
        XCTAssertEqual(params["transfer"] as? String, transfer)
        let report = try json(run + "/report.json")
        XCTAssertEqual(report["ok"] as? Bool, true)
        let total = (0..<ranks).flatMap { expected(seed: seed, rank: $0, n: n) }.reduce(0, +)
        XCTAssertEqual(report["allreduce_total"] as! Double, total, accuracy: 1e-9 * Double(ranks * n))
        // The start-up visibility check's token is gone: the run holds only its own files.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run).sorted(),
                       ["metadata.json", "params.json", "report.json", "selftest.h5"])
    }

    func testFourRanksCollectiveWrite() throws {
        let run = directory + "/np4"
        let result = try Launcher.run(["selftest", "--out", run, "--values-per-rank", "700", "--seed", "11"], ranks: 4)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("selftest: 4 rank(s)"), result.stdout)
        try verifyRun(run, ranks: 4, n: 700, seed: 11, transfer: "collective")
    }

    func testTwoRanksIndependentWriteFromConfigAndReproduce() throws {
        let config = directory + "/selftest.yaml"
        try "values_per_rank: 300\nseed: 5\ntransfer: independent\n".write(toFile: config, atomically: true, encoding: .utf8)
        let run = directory + "/np2"
        let result = try Launcher.run(["selftest", "--config", config, "--out", run], ranks: 2)
        XCTAssertEqual(result.status, 0, result.stderr)
        try verifyRun(run, ranks: 2, n: 300, seed: 5, transfer: "independent")
        let inputs = try json(run + "/metadata.json")["inputs"] as! [[String: Any]]
        XCTAssertEqual(inputs.first?["path"] as? String, config)
        XCTAssertEqual((inputs.first?["sha256"] as? String)?.count, 64)

        // `reproduce` prints the command; `reproduce --run` redoes the run into RUN-rerun.
        let printed = try Launcher.run(["reproduce", run])
        XCTAssertEqual(printed.status, 0, printed.stderr)
        XCTAssertTrue(printed.stdout.contains("mpirun -np 2 "), printed.stdout)
        XCTAssertTrue(printed.stdout.contains("selftest --config \(run)/params.json --out \(run)-rerun"), printed.stdout)
        let rerun = try Launcher.run(["reproduce", run, "--run", "--launcher-arg=--oversubscribe"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        try verifyRun(run + "-rerun", ranks: 2, n: 300, seed: 5, transfer: "independent")
        XCTAssertEqual(try json(run + "-rerun/params.json") as NSDictionary, try json(run + "/params.json") as NSDictionary)
    }

    func testExistingRunDirectoryIsNeverOverwritten() throws {
        let run = directory + "/keep"
        XCTAssertEqual(try Launcher.run(["selftest", "--out", run, "--values-per-rank", "10"], ranks: 2).status, 0)
        let before = try SHA256Digest.hex(ofFile: run + "/selftest.h5")
        let again = try Launcher.run(["selftest", "--out", run, "--values-per-rank", "20"], ranks: 2)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("\(run): run directory already holds results"), again.stderr)
        XCTAssertEqual(try SHA256Digest.hex(ofFile: run + "/selftest.h5"), before)
        XCTAssertEqual(try json(run + "/params.json")["values_per_rank"] as? Int, 10)
    }
}
