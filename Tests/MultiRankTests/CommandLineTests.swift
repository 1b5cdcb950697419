import Foundation
import XCTest

/// The command line as a user meets it: help text and clear errors for bad input, under mpirun too.
final class CommandLineTests: XCTestCase {
    func testHelpListsSubcommandsWithDescriptions() throws {
        let help = try Launcher.run(["--help"])
        XCTAssertEqual(help.status, 0)
        for (name, words) in [("info", "versions"), ("selftest", "parallel HDF5"), ("reproduce", "redoes a run"),
                              ("config", "configuration template")] {
            let line = help.stdout.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") }
            XCTAssertNotNil(line, "subcommand \(name) missing from --help:\n\(help.stdout)")
            XCTAssertTrue(help.stdout.contains(words), "description of \(name)")
        }
        XCTAssertEqual(try Launcher.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
    }

    /// `tessera --help` lists the commands under their domain, so a user finds the step for
    /// their data; every command appears in exactly one group.
    func testHelpGroupsCommandsByDomain() throws {
        let help = try Launcher.run(["--help"]).stdout
        var group = "", seen: [String: String] = [:]
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix("SUBCOMMANDS:") { group = String(line.dropLast(" SUBCOMMANDS:".count)); continue }
            if line.hasPrefix("  "), !line.hasPrefix("   "), !group.isEmpty,
               let name = line.split(separator: " ").first.map(String.init), !name.hasPrefix("-") {
                XCTAssertNil(seen[name], "\(name) listed twice")
                seen[name] = group
            }
        }
        for (name, domain) in [("optimize", "SCENE FITTING"), ("demo", "SCENE FITTING"), ("tabulate", "LENSING"),
                               ("magmap", "LENSING"), ("clusters", "CLUSTERS"), ("reproduce", "RUNS"), ("selftest", "RUNS")] {
            XCTAssertEqual(seen[name], domain, "\(name) in the wrong group:\n\(help)")
        }
    }

    /// The commands `tessera --help` lists, with the subcommands of command groups (`clusters fit`).
    private func allCommands() throws -> [[String]] {
        func names(_ help: String) -> [String] {
            var inList = false, out: [String] = []
            for line in help.split(separator: "\n") {
                if line.hasSuffix("SUBCOMMANDS:") { inList = true; continue }
                if inList, line.hasPrefix("  "), !line.hasPrefix("   "), let n = line.split(separator: " ").first {
                    out.append(String(n).replacingOccurrences(of: " (default)", with: ""))
                }
            }
            return out.filter { $0 != "See" && $0 != "help" }
        }
        var commands: [[String]] = []
        for name in names(try Launcher.run(["--help"]).stdout) {
            commands.append([name])
            for sub in names(try Launcher.run([name, "--help"]).stdout) { commands.append([name, sub]) }
        }
        return commands
    }

    /// Wrapped help texts read as prose: no backslash left over from a line continuation, in
    /// every command's help (found from `--help`, so a new command is checked without listing it).
    func testHelpTextsHaveNoStrayBackslashes() throws {
        let commands = try allCommands()
        XCTAssertGreaterThan(commands.count, 20, "commands found: \(commands)")
        XCTAssertTrue(commands.contains(["clusters", "compare"]), "\(commands)")
        for command in commands {
            let help = try Launcher.run(["help"] + command)
            XCTAssertEqual(help.status, 0, "tessera help \(command.joined(separator: " "))")
            XCTAssertFalse(help.stdout.contains("\\"), "stray backslash in `tessera help \(command.joined(separator: " "))`:\n\(help.stdout)")
            XCTAssertFalse(help.stdout.contains(" \n"), "trailing spaces in `tessera help \(command.joined(separator: " "))`")
        }
    }

    /// An input every rank opens and finds broken is reported once, by rank 0, without the
    /// launcher's MPI_ABORT notice: the ranks agree that all failed and end cleanly.
    func testFailureOnEveryRankPrintsOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for file in ["initial.fits", "pixels.h5", "psf.h5"] {
            try "not FITS, not HDF5\n".write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)
        }
        let config = """
        catalog: \(dir)/initial.fits
        pixel_store: \(dir)/pixels.h5
        psf_store: \(dir)/psf.h5
        bands: [F150W, F200W]
        """
        try config.write(toFile: dir + "/opt.yaml", atomically: true, encoding: .utf8)
        let r = try Launcher.run(["optimize", "--config", dir + "/opt.yaml", "--out", dir + "/run"], ranks: 3, timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("tessera") }
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("tessera: error: FITS error in \(dir)/initial.fits: not a FITS file") == true, r.stderr)
        XCTAssertFalse(r.stderr.contains("MPI_ABORT"), r.stderr)
    }

    func testConfigTemplateListsEveryKey() throws {
        let result = try Launcher.run(["config", "selftest"])
        XCTAssertEqual(result.status, 0)
        for key in ["values_per_rank: 1000", "seed: 2026", "transfer: \"collective\"", "output_file: \"selftest.h5\""] {
            XCTAssertTrue(result.stdout.contains(key), "\(key) missing:\n\(result.stdout)")
        }
    }

    func testBadConfigUnderMPINamesFileAndKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let unknown = dir + "/typo.yaml"
        try "valeus_per_rank: 10\n".write(toFile: unknown, atomically: true, encoding: .utf8)
        let r1 = try Launcher.run(["selftest", "--config", unknown, "--out", dir + "/run1"], ranks: 2)
        XCTAssertNotEqual(r1.status, 0)
        let message = "\(unknown): unknown key 'valeus_per_rank' (did you mean 'values_per_rank'?)"
        XCTAssertEqual(r1.stderr.components(separatedBy: message).count - 1, 1, "printed once, by rank 0:\n\(r1.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run1"), "no run directory for a rejected config")

        let mistyped = dir + "/type.yaml"
        try "values_per_rank: many\n".write(toFile: mistyped, atomically: true, encoding: .utf8)
        let r2 = try Launcher.run(["selftest", "--config", mistyped, "--out", dir + "/run2"], ranks: 2)
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("\(mistyped): field 'values_per_rank' must be an integer"), r2.stderr)

        let r3 = try Launcher.run(["selftest", "--config", dir + "/absent.yaml", "--out", dir + "/run3"])
        XCTAssertNotEqual(r3.status, 0)
        XCTAssertTrue(r3.stderr.contains("\(dir)/absent.yaml: configuration file not found"), r3.stderr)

        let r4 = try Launcher.run(["selftest", "--transfer", "sideways", "--out", dir + "/run4"])
        XCTAssertNotEqual(r4.status, 0)
        XCTAssertTrue(r4.stderr.contains("field 'transfer': must be 'collective' or 'independent'"), r4.stderr)

        let r5 = try Launcher.run(["reproduce", dir + "/not-a-run"])
        XCTAssertNotEqual(r5.status, 0)
        XCTAssertTrue(r5.stderr.contains("\(dir)/not-a-run: not a Tessera run directory"), r5.stderr)
    }

    func testInfoUnderMPI() throws {
        let result = try Launcher.run(["info"], ranks: 2)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("2 rank(s)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("rank 1:"), result.stdout)
        XCTAssertTrue(result.stdout.contains("(parallel)"), result.stdout)
    }
}
