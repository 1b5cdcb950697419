import Foundation
import TesseraHDF5
import XCTest

/// `tessera infer` on a tiny mock (3 lenses, short chains) under `mpirun -np 2`, killed partway by SIGKILL to every
/// process of the job and resumed under `-np 4`: the result equals an unkilled run's value for value (lens checkpoints,
/// those of both refinement rounds included, byte for byte,
/// every dataset of chains.h5), the saved lens results are not rewritten, the metadata records the versions, and
/// a resume whose selection table has another version is refused naming the file and both versions.
final class InferRunTests: XCTestCase {
    static let table = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LensInferenceTests/Fixtures/microlensing-table.h5").path

    var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("infer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func lensCheckpoints(_ run: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: run + "/lenses")) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    func testKillResumeEqualsAnUnkilledRun() throws {
        let config = directory + "/infer.yaml"
        try """
        sim_id: killtest
        table: \(Self.table)
        mock_lenses: 3
        mock_seed: 2
        selection_axes: [[1.0, 1.4], [1.2, 1.8], [12.8, 13.2], [0.1, 0.2]]
        selection_draws: 40
        interim_alpha: [0.8, 1.6]
        lens_warmup: 8
        lens_draws: 8
        lens_max_tree_depth: 3
        chains: 2
        warmup: 40
        draws: 30
        seed: 3
        """.write(toFile: config, atomically: true, encoding: .utf8)

        let reference = directory + "/reference"
        let unkilled = try Launcher.run(["infer", "--config", config, "--out", reference], ranks: 4)
        XCTAssertEqual(unkilled.status, 0, unkilled.stderr + unkilled.stdout)

        let run = directory + "/killed"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // One worker (2 ranks): lenses one after another, each after a 1.5 s wait, so the kill lands between them.
        process.arguments = ["mpirun", "-np", "2", "--oversubscribe", Launcher.tessera, "infer", "--config", config, "--out", run]
        process.environment = Launcher.environment.merging(["TESSERA_TEST_WORK_DELAY": "1.5"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while lensCheckpoints(run).isEmpty && process.isRunning && Date() < deadline { usleep(10_000) }
        _ = try Launcher.runProcess(["pkill", "-9", "-f", run])
        process.waitUntilExit()
        let before = lensCheckpoints(run)
        XCTAssertGreaterThanOrEqual(before.count, 1, "no lens was saved before the kill")
        XCTAssertLessThan(before.count, 3, "the run finished stage 1 before it could be killed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/chains.h5"))
        let saved = try before.map { try Data(contentsOf: URL(fileURLWithPath: run + "/lenses/" + $0)) }

        let resumed = try Launcher.run(["infer", "--resume", run], ranks: 4)
        XCTAssertEqual(resumed.status, 0, resumed.stderr + resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("3 lenses, \(before.count) already done, \(3 - before.count) to sample"), resumed.stdout)
        for (name, data) in zip(before, saved) {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run + "/lenses/" + name)), data, "\(name) was rewritten")
        }
        // Nothing lost: every checkpoint and every dataset as in the unkilled run.
        XCTAssertEqual(lensCheckpoints(run), lensCheckpoints(reference))
        for name in lensCheckpoints(reference) {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run + "/lenses/" + name)),
                           try Data(contentsOf: URL(fileURLWithPath: reference + "/lenses/" + name)), name)
        }
        // Refinement: every lens's 8-draw chain mixes poorly, so round 1 samples all three again; round 2 those still
        // poorly mixed or carrying the variance (each from its own stream). The resumed run takes the same rounds,
        // checkpoint for checkpoint, and each lens's draws count its chains.
        XCTAssertTrue(unkilled.stdout.contains("refinement round 1 samples 3 lenses again")
                      && unkilled.stdout.contains("refinement round 2 samples"), unkilled.stdout)
        var chainsPerLens = [String: Int]()
        for name in lensCheckpoints(reference) { chainsPerLens[name] = 1 }
        for round in 1...2 {
            let directory = "/lenses-round-\(round)/"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: reference + directory)) ?? []).sorted()
            XCTAssertFalse(names.isEmpty, directory)
            XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: run + directory)) ?? []).sorted(), names, directory)
            for name in names {
                chainsPerLens[name, default: 0] += 1
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run + directory + name)),
                               try Data(contentsOf: URL(fileURLWithPath: reference + directory + name)), directory + name)
            }
        }
        let a = try HDF5File.open(reference + "/chains.h5"), b = try HDF5File.open(run + "/chains.h5")
        defer { try? a.close(); try? b.close() }
        for path in ["/eta/draws", "/eta/log_posterior", "/eta/start", "/lenses/draws", "/stage1/draws", "/stage1/draw_counts"] {
            let x = try a.read(Double.self, from: path), y = try b.read(Double.self, from: path)
            XCTAssertEqual(x.shape, y.shape, path)
            XCTAssertEqual(x.values.map(\.bitPattern), y.values.map(\.bitPattern), path)
        }
        XCTAssertEqual(try a.read(Double.self, from: "/eta/draws").shape, [2, 30, 4])
        XCTAssertEqual(try a.read(Double.self, from: "/lenses/draws").shape, [2, 30, 3, 7])
        XCTAssertEqual(try a.read(Double.self, from: "/stage1/draw_counts").values,
                       lensCheckpoints(reference).map { Double(8 * chainsPerLens[$0]!) }, "8 draws per chain, in catalog order")
        XCTAssertEqual(try a.readStrings(from: "/eta/names"), ["alpha_sps", "halo_slope", "halo_normalisation", "halo_scatter"])

        let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metadata.json"))) as! [String: Any]
        XCTAssertEqual(metadata["status"] as? String, "finished")
        XCTAssertEqual(metadata["sim_id"] as? String, "killtest")
        XCTAssertNotNil(metadata["table_version"] as? String)
        let selectionVersion = try XCTUnwrap(metadata["selection_table_version"] as? String)
        XCTAssertTrue(selectionVersion.hasPrefix("mc-"))
        XCTAssertEqual((metadata["resumed"] as? [String])?.count, 1)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/summary.json"))) as! [String: Any]
        XCTAssertEqual((summary["parameters"] as? [[String: Any]])?.count, 4)
        // The run's page: η against the catalog's values and each lens's α conditional (3 lenses), written at the end.
        XCTAssertTrue(resumed.stdout.contains("report: \(run)/report.html"), resumed.stdout)
        let page = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&apos;", with: "'")
        for text in ["Population hyperparameters η", "Each lens's α against α_sps", "where the lenses' constraints overlap", "α conditional width"] {
            XCTAssertTrue(page.contains(text), text)
        }
        XCTAssertEqual(page.components(separatedBy: "<img ").count - 1, 1 + 2 + 1, "corner, one trace per chain, lens α")

        // `tessera reproduce` redoes the run from its params.json (which records both versions) into a new directory.
        let plan = try Launcher.run(["reproduce", reference])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("mpirun -np 4 ") && plan.stdout.contains(
            " infer --config \(reference)/params.json --out \(reference)-rerun"), plan.stdout)

        // A selection table of another version in the run directory is refused on resume.
        let selection = run + "/selection.json"
        let text = try String(contentsOfFile: selection, encoding: .utf8)
        try text.replacingOccurrences(of: selectionVersion, with: "mc-0000000000000000").write(toFile: selection, atomically: true, encoding: .utf8)
        let refused = try Launcher.run(["infer", "--resume", run], ranks: 2)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("selection.json: selection-table version is 'mc-0000000000000000', but this run recorded '\(selectionVersion)'"),
                      refused.stderr)
    }
}
