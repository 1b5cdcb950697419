import Foundation
import TesseraHDF5
import XCTest

/// `tessera selection build` over the small magnification-table fixture: the same file from 1 and 3 ranks
/// (design, refinement, counts and interpolant bit for bit), and a 3-rank build killed (SIGKILL) partway and
/// resumed to the same file. Then `tessera lenses mock` writes a catalog over the same configuration.
final class SelectionBuildRunTests: XCTestCase {
    var directory: String!

    static let table = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LensInferenceTests/Fixtures/microlensing-table.h5").path

    /// Few draws and a tolerance far below the Monte Carlo error, so refinement runs until the point budget.
    var config: String {
        """
        sim_id: seltest
        table: \(Self.table)
        selection_version: "sel-test-1"
        lower: [1.0, 1.2, 12.8, 0.08]
        upper: [1.5, 1.8, 13.4, 0.25]
        draws: 40
        seed: 3
        initial_points: 10
        points_per_round: 3
        max_points: 16
        tolerance: 0.05
        candidates: 200
        lenses: 4
        """
    }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sel-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func contents(_ path: String) throws -> [String: [Double]] {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        var out: [String: [Double]] = [:]
        for name in ["/nodes", "/log_a", "/log_a_sigma", "/loo_error", "/interpolant/weights", "/interpolant/tail", "/box/lower"] {
            out[name] = try file.read(Double.self, from: name).values
        }
        out["/selected"] = try file.read(Int64.self, from: "/selected").values.map(Double.init)
        out["/round"] = try file.read(Int32.self, from: "/round").values.map(Double.init)
        return out
    }

    func checkpointCount(_ run: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: run + "/checkpoint")) ?? []).filter { $0.hasSuffix(".json") }.count
    }

    func testOneAndThreeRanksAgreeBitForBitAndAKilledBuildResumes() throws {
        let file = directory + "/population.yaml"
        try config.write(toFile: file, atomically: true, encoding: .utf8)
        let one = try Launcher.run(["selection", "build", "--config", file, "--out", directory + "/one"], ranks: 1)
        XCTAssertEqual(one.status, 0, one.stderr + one.stdout)
        XCTAssertTrue(one.stdout.contains("point budget max_points = 16 reached"), one.stdout)
        let three = try Launcher.run(["selection", "build", "--config", file, "--out", directory + "/three"], ranks: 3)
        XCTAssertEqual(three.status, 0, three.stderr + three.stdout)
        let reference = try contents(directory + "/one/selection.h5")
        XCTAssertEqual(reference["/selected"]?.count, 16)
        XCTAssertEqual(reference["/round"]?.max(), 2)  // 10 + 3 + 3
        XCTAssertEqual(try contents(directory + "/three/selection.h5"), reference)

        let h5 = try HDF5File.open(directory + "/one/selection.h5")
        XCTAssertEqual(try h5.attribute("converged"), .int(0))
        XCTAssertEqual(try h5.attribute("selection_version"), .string("sel-test-1"))
        let tableFile = try HDF5File.open(Self.table)
        XCTAssertEqual(try h5.attribute("magnification_table_version"), try tableFile.attribute("table_version"))
        try tableFile.close()
        try h5.close()

        // Killed once a few points are saved, then resumed: the same file.
        let run = directory + "/killed"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "-np", "3", "--oversubscribe", Launcher.tessera, "selection", "build", "--config", file, "--out", run]
        process.environment = Launcher.environment.merging(["TESSERA_TEST_WORK_DELAY": "0.3"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while checkpointCount(run) < 3 && process.isRunning && Date() < deadline { usleep(10_000) }
        _ = try Launcher.runProcess(["pkill", "-9", "-f", run])
        process.waitUntilExit()
        let saved = checkpointCount(run)
        XCTAssertGreaterThanOrEqual(saved, 1)
        XCTAssertLessThan(saved, 16, "the build finished before it was killed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/selection.h5"))
        let resumed = try Launcher.run(["selection", "build", "--resume", run], ranks: 3)
        XCTAssertEqual(resumed.status, 0, resumed.stderr + resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("\(saved) already done"), resumed.stdout)
        XCTAssertEqual(try contents(run + "/selection.h5"), reference)

        // The magnification table changed under a build: --resume refuses it, naming the table and both versions.
        let copy = directory + "/table.h5"
        try FileManager.default.copyItem(atPath: Self.table, toPath: copy)
        try config.replacingOccurrences(of: Self.table, with: copy).write(toFile: file, atomically: true, encoding: .utf8)
        let small = try Launcher.run(["selection", "build", "--config", file, "--out", directory + "/changed"], ranks: 1)
        XCTAssertEqual(small.status, 0, small.stderr)
        let edited = try HDF5File.open(copy, mode: .readWrite)
        let old = try edited.attribute("table_version").stringValue ?? ""
        try edited.setAttribute("table_version", .string("changed-9"))
        try edited.close()
        let refused = try Launcher.run(["selection", "build", "--resume", directory + "/changed"], ranks: 1)
        XCTAssertNotEqual(refused.status, 0)
        for part in [copy, "'changed-9'", "'\(old)'"] { XCTAssertTrue(refused.stderr.contains(part), refused.stderr) }

        // A catalog over the same configuration.
        let mock = try Launcher.run(["lenses", "mock", "--config", file, "--out", directory + "/lenses"])
        XCTAssertEqual(mock.status, 0, mock.stderr)
        let catalog = try HDF5File.open(directory + "/lenses/lenses.h5")
        XCTAssertEqual(try catalog.readStrings(from: "/lenses/id").count, 4)
        XCTAssertGreaterThanOrEqual(try catalog.read(Int32.self, from: "/images/parity").values.count, 8)
        try catalog.close()
    }
}
