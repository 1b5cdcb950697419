import Foundation
import XCTest

/// Runs the built `tessera` executable, directly or under `mpirun`, and captures its output.
///
/// The binary is `$TESSERA_BIN` if set (the test script points it at the release build),
/// otherwise the `tessera` that SwiftPM built next to this test bundle.
enum Launcher {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var tessera: String {
        if let bin = ProcessInfo.processInfo.environment["TESSERA_BIN"], !bin.isEmpty { return bin }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("tessera").path
    }

    /// Environment for child jobs: this process's, minus any OpenMPI/PMIx variables that MPI's
    /// singleton start in the test process may have set, plus what mpirun needs here.
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !["OMPI_", "PMIX_", "OPAL_", "ORTE_"].contains { key.hasPrefix($0) }
        }
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        env["OMPI_MCA_mpi_yield_when_idle"] = "1"
        env["OPENBLAS_NUM_THREADS"] = "1"
        return env
    }

    /// `tessera ARGS` on one process (`ranks == nil`) or under `mpirun -np ranks`.
    static func run(_ arguments: [String], ranks: Int? = nil, in directory: String? = nil,
                    timeout: TimeInterval = 180) throws -> Result {
        var command = [tessera] + arguments
        if let ranks { command = ["mpirun", "-np", String(ranks), "--oversubscribe"] + command }
        return try runProcess(command, in: directory, timeout: timeout)
    }

    static func runProcess(_ command: [String], in directory: String? = nil, timeout: TimeInterval = 180) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("launch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("\(command.joined(separator: " ")) did not finish in \(timeout) s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}
