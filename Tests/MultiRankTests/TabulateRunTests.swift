import Foundation
import XCTest
import TesseraHDF5

/// `mpirun -np 4 tessera tabulate` on a small grid, killed partway (SIGKILL to every process of
/// the job), resumed, and checked against the same cells computed one by one with `tessera magmap`,
/// histograms and kept maps alike.
final class TabulateRunTests: XCTestCase {
    let grid = """
    sim_id: killtest
    table_version: "test-1"
    kappa: [0.2, 0.45, 0.7]
    gamma: [0.1, 0.35, 0.55]
    s: [0.0, 0.5]
    critical_margin: 0.02
    size_re: 4
    pixels: 24
    rays_per_pixel: 16
    source_sizes: [0.0, 0.2]
    source_profile: gaussian
    log_mu_range: [-1.5, 1.5]
    bins: 24
    seed: 7
    light_loss: 0.005
    keep_maps: true
    """

    var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tab-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func checkpointCount(_ run: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: run + "/checkpoint")) ?? []).filter { $0.hasSuffix(".json") }.count
    }

    func testKillResumeAndCompareWithSingleCells() throws {
        let gridFile = directory + "/grid.yaml"
        try grid.write(toFile: gridFile, atomically: true, encoding: .utf8)
        let run = directory + "/table-run"
        // 18 cells; (κ, γ) = (0.45, 0.55) lies on the critical line and is skipped.
        let computable = 16

        // Start the job, and kill every process of it once a few cells are saved.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "-np", "4", "--oversubscribe", Launcher.tessera, "tabulate", "--grid", gridFile, "--out", run]
        // Each worker waits 0.4 s before a cell, so the job is still running when it is killed.
        process.environment = Launcher.environment.merging(["TESSERA_TEST_WORK_DELAY": "0.4"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while checkpointCount(run) < 3 && process.isRunning && Date() < deadline { usleep(10_000) }
        _ = try Launcher.runProcess(["pkill", "-9", "-f", run])
        process.waitUntilExit()
        let saved = checkpointCount(run)
        XCTAssertGreaterThanOrEqual(saved, 1, "no cell was saved before the kill")
        XCTAssertLessThan(saved, computable, "the job finished before it could be killed; make the cells slower")
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/table.h5"))
        let before = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoint").sorted()
        let savedData = try before.map { try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint/" + $0)) }

        // Resume: only the missing cells are computed; the saved ones are untouched.
        let resumed = try Launcher.run(["tabulate", "--resume", run], ranks: 4)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("\(saved) already done, \(computable - saved) to compute"), resumed.stdout)
        for (name, data) in zip(before, savedData) {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint/" + name)), data, "\(name) was rewritten")
        }
        XCTAssertEqual(checkpointCount(run), computable)
        let maps = try FileManager.default.contentsOfDirectory(atPath: run + "/maps")
        XCTAssertEqual(maps.filter { $0.hasSuffix(".h5") }.count, computable, "\(maps)")

        // The table: every computable cell present, the critical cell skipped.
        let table = try HDF5File.open(run + "/table.h5")
        let status = try table.read(Int32.self, from: "/cells/status").values
        XCTAssertEqual(status.filter { $0 == 1 }.count, computable)
        XCTAssertEqual(status.filter { $0 == 0 }.count, 2)
        let pdf = try table.read(Double.self, from: "/pdf")
        XCTAssertEqual(pdf.shape, [18, 2, 24])
        let kappa = try table.read(Double.self, from: "/grid/kappa").values
        let gamma = try table.read(Double.self, from: "/grid/gamma").values
        let s = try table.read(Double.self, from: "/grid/s").values
        let seeds = try table.read(Int64.self, from: "/cells/seed").values
        let means = try table.read(Double.self, from: "/cells/mean_magnification").values
        let theory = try table.read(Double.self, from: "/cells/theory_magnification").values
        XCTAssertEqual(try table.attribute("table_version"), .string("test-1"))
        XCTAssertEqual(try table.attribute("light_loss"), .double(0.005))
        try table.close()
        let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metadata.json"))) as! [String: Any]
        XCTAssertEqual(metadata["status"] as? String, "finished")
        XCTAssertEqual(metadata["table_version"] as? String, "test-1")

        // Each cell again, alone, with `tessera magmap` and the cell's recorded seed: identical PDFs.
        for cell in 0..<18 where status[cell] == 1 {
            let out = directory + "/cell-\(cell)"   // magmap's run directory; the map is out/map.h5
            let single = try Launcher.run(["magmap", "--kappa", "\(kappa[cell])", "--gamma", "\(gamma[cell])", "--s", "\(s[cell])",
                                           "--size-re", "4", "--pixels", "24", "--rays-per-pixel", "16", "--seed", "\(seeds[cell])",
                                           "--source-size", "0", "--source-size", "0.2", "--source-profile", "gaussian",
                                           "--log-mu-range=-1.5,1.5", "--bins", "24", "--light-loss", "0.005", "--out", out])
            XCTAssertEqual(single.status, 0, single.stderr)
            let file = try HDF5File.open(out + "/map.h5")
            let alone = try file.read(Double.self, from: "/histogram/pdf")
            let aloneMap = try file.read(Float.self, from: "/magnification")
            let aloneStars = try file.read(Double.self, from: "/stars/x").values
            try file.close()
            // The map the tabulation kept (keep_maps) is the one magmap makes alone.
            let kept = try HDF5File.open(run + String(format: "/maps/cell-%06d.h5", cell))
            let keptMap = try kept.read(Float.self, from: "/magnification")
            XCTAssertEqual(try kept.attribute("seed", of: "/magnification"), .int(seeds[cell]))
            XCTAssertEqual(try kept.attribute("light_loss", of: "/magnification"), .double(0.005))
            XCTAssertEqual(try kept.read(Double.self, from: "/stars/x").values, aloneStars, "cell \(cell): kept star field")
            try kept.close()
            XCTAssertEqual(keptMap.shape, [24, 24])
            XCTAssertEqual(keptMap.values, aloneMap.values, "cell \(cell): kept map differs from its single-cell map")
            XCTAssertEqual(alone.shape, [2, 24])
            XCTAssertEqual(alone.values, Array(pdf.values[(cell * 48)..<((cell + 1) * 48)]), "cell \(cell) differs from its single-cell map")
            // These 4-Einstein-radius maps are far too small for the mean to match theory (the
            // Microlensing unit tests check that on proper maps); here only that it was recorded.
            XCTAssertTrue(means[cell].isFinite && means[cell] > 0 && theory[cell] > 1, "cell \(cell)")
        }
    }

    /// The processes mpirun started, by MPI rank (children of `mpirun` with OMPI_COMM_WORLD_RANK).
    func ranks(ofMpirun mpirun: Int32) -> [Int: Int32] {
        var found: [Int: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[1]) == mpirun,
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            for variable in environ.split(separator: 0) {
                let text = String(decoding: variable, as: UTF8.self)
                if text.hasPrefix("OMPI_COMM_WORLD_RANK="), let rank = Int(text.dropFirst(21)) { found[rank] = pid }
            }
        }
        return found
    }

    /// One worker killed (SIGKILL) mid-run under `mpirun -np 3`: mpirun names the lost rank, the
    /// master names the items in flight with their ranks and hosts, where the checked-in cells are
    /// kept and how to continue, and records the stop in metadata.json; `--resume` then completes
    /// the table without recomputing a saved cell.
    func testLostWorkerIsReportedAndResumeCompletesTheTable() throws {
        let gridFile = directory + "/grid.yaml"
        try grid.replacingOccurrences(of: "keep_maps: true", with: "keep_maps: false").write(toFile: gridFile, atomically: true, encoding: .utf8)
        let run = directory + "/lost-worker"
        let errURL = URL(fileURLWithPath: directory + "/lost.err")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "-np", "3", "--oversubscribe", Launcher.tessera, "tabulate", "--grid", gridFile, "--out", run]
        process.environment = Launcher.environment.merging(["TESSERA_TEST_WORK_DELAY": "0.5"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while checkpointCount(run) < 2 && process.isRunning && Date() < deadline { usleep(10_000) }
        let pids = ranks(ofMpirun: process.processIdentifier)
        let victim = try XCTUnwrap(pids[1], "rank 1 not found among mpirun's children: \(pids)")
        let killed = Date()
        _ = kill(victim, SIGKILL)
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(killed)
        let stderr = try String(contentsOf: errURL, encoding: .utf8)

        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertLessThan(seconds, 10, "the job took \(seconds) s to end after the kill")
        XCTAssertTrue(stderr.contains("mpirun noticed that process rank 1 "), stderr)
        XCTAssertTrue(stderr.contains("tessera: the launcher stopped the job (SIGTERM)"), stderr)
        XCTAssertTrue(stderr.contains("in flight, not saved: rank 1 on host "), stderr)
        XCTAssertTrue(stderr.contains("kept: every result checked in before the stop, in \(run)"), stderr)
        XCTAssertTrue(stderr.contains("continue with: tessera tabulate --resume \(run)"), stderr)
        let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/metadata.json"))) as! [String: Any]
        XCTAssertEqual(metadata["status"] as? String, "failed")
        XCTAssertTrue((metadata["error"] as? String ?? "").contains("in flight, not saved: rank 1 on host"), "\(metadata)")

        let saved = checkpointCount(run)
        XCTAssertGreaterThanOrEqual(saved, 2)
        let resumed = try Launcher.run(["tabulate", "--resume", run], ranks: 3)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("\(saved) already done, \(16 - saved) to compute"), resumed.stdout)
        XCTAssertEqual(checkpointCount(run), 16)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run).sorted(),
                       ["checkpoint", "metadata.json", "params.json", "report.html", "table.h5"])  // report.html: written at the end
    }
}
