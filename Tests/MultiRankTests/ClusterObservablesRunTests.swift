import Foundation
import XCTest

/// `tessera clusters mock` writing FITS halo files with a reduced-shear profile, a κ map and a
/// mass map, then `mpirun -np 2 tessera clusters fit` on them: one result per halo, masses near
/// the mass each halo was made with, and `--resume` finding every halo done.
final class ClusterObservablesRunTests: XCTestCase {
    func testFITSMixedObservablesFitOnTwoRanks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clusters-obs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        count: 6
        seed: 11
        noise: 0.2
        format: fits
        observables: [reduced_shear, kappa_map, mass_map]
        source_redshift: 1.0
        map_pixels: 16
        map_pixel_scale: 0.2
        """.write(toFile: dir + "/mock.yaml", atomically: true, encoding: .utf8)
        let mock = try Launcher.run(["clusters", "mock", "--config", dir + "/mock.yaml", "--out", dir + "/mock"])
        XCTAssertEqual(mock.status, 0, mock.stderr)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: dir + "/mock/halos").sorted()
        XCTAssertEqual(inputs, (0..<6).map { String(format: "halo-%05d.fits", $0) })

        try "halos: \(dir)/mock/halos\nmethod: optimize\n".write(toFile: dir + "/fit.yaml", atomically: true, encoding: .utf8)
        let run = dir + "/fit"
        let fit = try Launcher.run(["clusters", "fit", "--config", dir + "/fit.yaml", "--out", run], ranks: 2)
        XCTAssertEqual(fit.status, 0, fit.stderr + fit.stdout)
        XCTAssertTrue(fit.stdout.contains("6 halos, 0 already done, 6 to fit"), fit.stdout)
        let results = try FileManager.default.contentsOfDirectory(atPath: run + "/results").sorted()
        XCTAssertEqual(results, (0..<6).map { String(format: "halo-%05d.h5", $0) }, "one result per halo")

        // Each fit against the mass its data were made with (truth.csv log10_lensing_mass).
        var lensing: [String: Double] = [:]
        for line in try String(contentsOfFile: dir + "/mock/truth.csv", encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            lensing[f[0]] = Double(f[3])!
        }
        let lines = try String(contentsOfFile: run + "/summary.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(lines.count, 6)
        for line in lines {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let (m, e) = (Double(f[2])!, Double(f[3])!)
            let truth = try XCTUnwrap(lensing[f[0]])
            XCTAssertLessThan(abs(m - truth), max(4 * e, 0.005), "halo \(f[0]): \(m) ± \(e) vs \(truth)")
            XCTAssertLessThan(abs(m - truth), 0.05, "halo \(f[0])")
            XCTAssertGreaterThan(e, 0)
        }

        // Resuming finds every halo done; a halo given twice (HDF5 beside FITS) is an error, not two results.
        let resumed = try Launcher.run(["clusters", "fit", "--resume", run], ranks: 2)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("6 halos, 6 already done, 0 to fit"), resumed.stdout)
        try FileManager.default.copyItem(atPath: run + "/results/halo-00000.h5", toPath: dir + "/mock/halos/halo-00000.h5")
        let twice = try Launcher.run(["clusters", "fit", "--config", dir + "/fit.yaml", "--out", dir + "/fit2"], ranks: 2)
        XCTAssertNotEqual(twice.status, 0)
        XCTAssertTrue((twice.stderr + twice.stdout).contains("halo 00000 has two input files"), twice.stderr + twice.stdout)
    }
}
