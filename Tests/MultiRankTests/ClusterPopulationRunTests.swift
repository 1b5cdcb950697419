import Foundation
import XCTest

/// The whole cluster chain on the built binary: `clusters mock` (48 halos, b = 0.9, σ = 0.2),
/// `mpirun -np 2 clusters fit` (NUTS, posterior samples per halo), `clusters bin` (edges with an empty bin: logged skip;
/// `empty_bins: error`: a failure naming the bin; an external command), `clusters ensemble`
/// (recovers b and σ inside their 95% intervals) and `clusters compare --truth truth.fits`.
final class ClusterPopulationRunTests: XCTestCase {
    func testBinEnsembleCompareRecoverInjectedBiasAndScatter() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clusters-pop-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func write(_ text: String, _ name: String) throws -> String {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            return dir + "/" + name
        }
        let mock = try Launcher.run(["clusters", "mock", "--config", write("count: 48\nseed: 11\nbias: 0.9\nscatter: 0.2\n", "mock.yaml"),
                                     "--out", dir + "/mock"])
        XCTAssertEqual(mock.status, 0, mock.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/mock/truth.fits")).prefix(6), Data("SIMPLE".utf8))
        let fitRun = dir + "/fit"
        let fit = try Launcher.run(["clusters", "fit", "--config", write("halos: \(dir)/mock/halos\nmethod: nuts\nwarmup: 150\ndraws: 150\n", "fit.yaml"),
                                    "--out", fitRun], ranks: 2)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: fitRun + "/summary.fits"))

        // Edges with an empty top bin: skipped with a log line, no membership list.
        let edges = try write("column: log10_true_mass\nedges: [14.0, 15.0, 15.5]\n", "bin.yaml")
        let bin = try Launcher.run(["clusters", "bin", fitRun, "--config", edges])
        XCTAssertEqual(bin.status, 0, bin.stderr)
        XCTAssertTrue(bin.stdout.contains("bin 1 [15.0, 15.5] of log10_true_mass has no halos; skipped"), bin.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fitRun + "/bins/bin-1.txt"))
        let members = try String(contentsOfFile: fitRun + "/bins/bin-0.txt", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(members.count, 48)
        let binSummary = try String(contentsOfFile: fitRun + "/bins/bin_summary.csv", encoding: .utf8)
        XCTAssertTrue(binSummary.contains("1,log10_true_mass,15.0,15.5,0,skipped-empty"), binSummary)
        // The same scheme with empty_bins: error fails and names the bin.
        let strict = try Launcher.run(["clusters", "bin", fitRun, "--out", dir + "/bins-strict", "--config",
                                       write("column: log10_true_mass\nedges: [14.0, 15.0, 15.5]\nempty_bins: error\n", "strict.yaml")])
        XCTAssertNotEqual(strict.status, 0)
        XCTAssertTrue(strict.stderr.contains("bin(s) 1 of log10_true_mass have no halos"), strict.stderr)
        // An external command: halos with an even id in bin "even", the rest in "odd".
        let command = "awk -F, 'NR > 1 { print $1 \",\" ($1 % 2 == 0 ? \"even\" : \"odd\") }' \"$1\""
        let external = try Launcher.run(["clusters", "bin", fitRun, "--out", dir + "/bins-cmd", "--config",
                                         write("command: |-\n  \(command)\n", "cmd.yaml")])
        XCTAssertEqual(external.status, 0, external.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/bins-cmd/bin-even.txt", encoding: .utf8).split(separator: "\n").count, 24)
        XCTAssertEqual(try String(contentsOfFile: dir + "/bins-cmd/bin-odd.txt", encoding: .utf8).split(separator: "\n").first, "00001")

        // The population fit recovers the injected b and σ.
        let ensemble = try Launcher.run(["clusters", "ensemble", fitRun, "--config",
                                         write("warmup: 200\ndraws: 400\nchains: 2\n", "ensemble.yaml")])
        XCTAssertEqual(ensemble.status, 0, ensemble.stderr)
        let table = try String(contentsOfFile: fitRun + "/ensemble/ensemble.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(table.count, 2, "one line for the one non-empty bin")
        let header = table[0].split(separator: ",").map(String.init)
        let row = table[1].split(separator: ",").map(String.init)
        func value(_ name: String) -> Double { Double(row[header.firstIndex(of: name)!])! }
        XCTAssertEqual(row[0], "0")
        XCTAssertEqual(value("halos"), 48)
        XCTAssertEqual(value("sampled_halos"), 48, "NUTS fits enter through their posterior samples")
        XCTAssertLessThan(value("bias_lo95"), 0.9)
        XCTAssertGreaterThan(value("bias_hi95"), 0.9)
        XCTAssertLessThan(value("scatter_lo95"), 0.2)
        XCTAssertGreaterThan(value("scatter_hi95"), 0.2)
        XCTAssertLessThan(value("bias_hi95") - value("bias_lo95"), 0.3, "48 halos constrain b")
        XCTAssertLessThan(max(value("r_hat_ln_bias"), value("r_hat_ln_scatter")), 1.05)
        let samples = try String(contentsOfFile: fitRun + "/ensemble/ensemble_samples.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 1 + 2 * 400)

        // Against the truth table: the plot-ready tables in CSV and FITS.
        let compare = try Launcher.run(["clusters", "compare", fitRun, "--truth", dir + "/mock/truth.fits", "--grid-points", "21"])
        XCTAssertEqual(compare.status, 0, compare.stderr)
        let cmp = try String(contentsOfFile: fitRun + "/compare/compare.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(cmp.count, 2)
        let ch = cmp[0].split(separator: ",").map(String.init), cr = cmp[1].split(separator: ",").map(String.init)
        XCTAssertEqual(Double(cr[ch.firstIndex(of: "bias_true")!]), 0.9)
        XCTAssertEqual(Double(cr[ch.firstIndex(of: "scatter_true")!]), 0.2)
        let realised = Double(cr[ch.firstIndex(of: "scatter_realised")!])!
        XCTAssertEqual(realised, 0.2, accuracy: 0.07, "the realised scatter of 48 draws")
        let curves = try String(contentsOfFile: fitRun + "/compare/compare_curves.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(curves.count, 1 + 2 * 21)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: fitRun + "/compare/compare.fits")).prefix(6), Data("SIMPLE".utf8))
        let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fitRun + "/compare/metadata.json"))) as! [String: Any]
        XCTAssertEqual(metadata["status"] as? String, "finished")
    }
}
