import Foundation
import TesseraFITS
import TesseraHDF5
import XCTest

/// `optimize` in passes under mpirun: a 2-pass run killed in its second pass and resumed gives
/// every source exactly two passes, and records `converged` and `n_pass` in the catalog and in
/// results.h5.
final class ScenePassRunTests: XCTestCase {
    func testTwoPassOptimizeKilledMidPassResumesAndRecordsPasses() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("passes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try "count: 12\nseed: 21\nimage_size: 48\nexposures_per_band: 2\n".write(toFile: dir + "/mock.yaml", atomically: true, encoding: .utf8)
        let mock = try Launcher.run(["mock-scene", "--config", dir + "/mock.yaml", "--out", dir + "/mock"])
        XCTAssertEqual(mock.status, 0, mock.stderr)
        let images = try FileManager.default.contentsOfDirectory(atPath: dir + "/mock/images").sorted().map { dir + "/mock/images/" + $0 }
        let pre = try Launcher.run(["preprocess"] + images + ["--out", dir + "/pixels.h5"])
        XCTAssertEqual(pre.status, 0, pre.stderr)
        try """
        catalog: \(dir)/mock/initial.fits
        pixel_store: \(dir)/pixels.h5
        psf_store: \(dir)/mock/psf.h5
        bands: [F150W, F200W]
        roi: 1.0
        max_active: 2
        rhalf_range: [0.03, 0.6]
        sersic_range: [0.8, 5]
        passes: {min: 2, max: 2, maxerr: 0.5}
        """.write(toFile: dir + "/optimize.yaml", atomically: true, encoding: .utf8)
        let run = dir + "/optimize"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["mpirun", "-np", "3", "--oversubscribe", Launcher.tessera, "optimize", "--config", dir + "/optimize.yaml", "--out", run]
        process.environment = Launcher.environment.merging(["TESSERA_TEST_WORK_DELAY": "0.3"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        func state() -> [String: Any]? {
            (try? Data(contentsOf: URL(fileURLWithPath: run + "/state.json"))).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
        // Kill once some source has had its second pass.
        let deadline = Date().addingTimeInterval(200)
        while !((state()?["iterations"] as? [Int])?.contains(2) ?? false) && process.isRunning && Date() < deadline { usleep(20_000) }
        _ = try Launcher.runProcess(["pkill", "-9", "-f", run])
        process.waitUntilExit()
        let killed = try XCTUnwrap(state())
        let before = killed["checkedIn"] as! [Int]
        XCTAssertTrue((killed["iterations"] as! [Int]).contains { $0 < 2 }, "the run finished before it could be killed")
        XCTAssertNotNil(killed["tracker"], "state.json holds the pass bookkeeping")

        let resumed = try Launcher.run(["optimize", "--resume", run], ranks: 3, timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr + resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("resuming"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("optimize: pass 2 (max 2)"), resumed.stdout)
        let st = try XCTUnwrap(state())
        let after = st["checkedIn"] as! [Int]
        XCTAssertEqual(Set(after).count, after.count, "a patch was checked in twice")
        XCTAssertTrue(Set(before).isSubset(of: Set(after)), "a check-in from before the kill was lost")
        XCTAssertEqual(st["iterations"] as! [Int], Array(repeating: 2, count: 12))
        let tracker = try XCTUnwrap(st["tracker"] as? [String: Any])
        XCTAssertEqual(tracker["passes"] as! [Int], Array(repeating: 2, count: 12))

        let fits = try FITSFile(path: run + "/catalog.fits")
        let nPass = try fits.readColumn("n_pass", as: Int64.self, hdu: 1)
        let converged = try fits.readColumn("converged", as: Bool.self, hdu: 1)
        try fits.close()
        XCTAssertEqual(nPass, Array(repeating: 2, count: 12))
        XCTAssertEqual(converged, (tracker["converged"] as! [Bool]))
        let h5 = try HDF5File.open(run + "/results.h5")
        XCTAssertEqual(try h5.read(Int64.self, from: "/state/n_pass").values, Array(repeating: 2, count: 12))
        XCTAssertEqual(try h5.read(Int64.self, from: "/state/converged").values, converged.map { $0 ? 1 : 0 })
        try h5.close()
    }
}
