import Foundation
import XCTest

/// `tessera clusters mock` then `mpirun -np 4 tessera clusters fit`, killed partway (SIGKILL to
/// every process), resumed: every halo ends with exactly one result, and none saved before the
/// kill is lost or rewritten.
final class ClusterFitRunTests: XCTestCase {
    func testKillResumeKeepsExactlyOneResultPerHalo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clusters-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "count: 24\nseed: 5\n".write(toFile: dir + "/mock.yaml", atomically: true, encoding: .utf8)
        let mock = try Launcher.run(["clusters", "mock", "--config", dir + "/mock.yaml", "--out", dir + "/mock"])
        XCTAssertEqual(mock.status, 0, mock.stderr)
        try "halos: \(dir)/mock/halos\nmethod: optimize\n".write(toFile: dir + "/fit.yaml", atomically: true, encoding: .utf8)
        let run = dir + "/fit"

        func results() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: run + "/results")) ?? []).filter { $0.hasSuffix(".h5") }.sorted()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "-np", "4", "--oversubscribe", Launcher.tessera, "clusters", "fit",
                             "--config", dir + "/fit.yaml", "--out", run]
        process.environment = Launcher.environment.merging(["TESSERA_TEST_WORK_DELAY": "0.3"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while results().count < 4 && process.isRunning && Date() < deadline { usleep(10_000) }
        _ = try Launcher.runProcess(["pkill", "-9", "-f", run])
        process.waitUntilExit()
        let before = results()
        XCTAssertGreaterThanOrEqual(before.count, 1)
        XCTAssertLessThan(before.count, 24, "the run finished before it could be killed")
        let saved = try before.map { try Data(contentsOf: URL(fileURLWithPath: run + "/results/" + $0)) }

        let resumed = try Launcher.run(["clusters", "fit", "--resume", run], ranks: 4)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("24 halos, \(before.count) already done, \(24 - before.count) to fit"), resumed.stdout)
        XCTAssertEqual(results(), (0..<24).map { String(format: "halo-%05d.h5", $0) }, "exactly one result per halo")
        for (name, data) in zip(before, saved) {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run + "/results/" + name)), data, "\(name) was rewritten")
        }
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: run + "/results").contains { $0.hasSuffix(".partial") })

        // The summary: every halo once, and the fits near the injected truth (b = 0.9, σ = 0.2:
        // log10 M_WL scatters about log10 M_true − 0.046 by 0.087 dex, plus measurement error).
        let lines = try String(contentsOfFile: run + "/summary.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(lines.count, 24)
        var offsets: [Double] = []
        for line in lines {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            offsets.append(Double(f[2])! - Double(f[4])!)
        }
        let mean = offsets.reduce(0, +) / Double(offsets.count)
        XCTAssertEqual(mean, log10(0.9), accuracy: 0.08, "mean log10(M_fit / M_true)")
        let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metadata.json"))) as! [String: Any]
        XCTAssertEqual(metadata["status"] as? String, "finished")
        XCTAssertEqual((metadata["resumed"] as? [String])?.count, 1)
    }
}
