import ArgumentParser
import Foundation
import TesseraRun

extension Tessera {
    struct Reproduce: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print (or, with --run, execute) the exact command that redoes a run.",
            discussion: """
            Reads RUN_DIR/metadata.json and RUN_DIR/params.json. The rerun writes to a new
            directory (default RUN_DIR-rerun), never over the original results. If the recorded
            git commit differs from the code here, the checkout command is printed first.
            """)

        @Argument(help: "A run directory written by a tessera command.")
        var runDirectory: String

        @Flag(name: .customLong("run"), help: "Run the command instead of printing it.")
        var execute = false

        @Option(help: "Run directory for the rerun (default: RUN_DIR-rerun).")
        var out: String?

        @Option(name: .customLong("launcher-arg"), parsing: .singleValue,
                help: "Extra argument for mpirun when the run used several ranks (repeatable), e.g. --launcher-arg=--oversubscribe.")
        var launcherArgs: [String] = []

        func run() throws {
            let plan = try failing {
                try Reproduction.plan(runDirectory: runDirectory, output: out, current: SourceVersion.detect())
            }
            var command = plan.fullCommand
            if !plan.launcher.isEmpty { command.insert(contentsOf: launcherArgs, at: plan.launcher.count) }
            let line = command.map(Reproduction.shellQuote).joined(separator: " ")
            if !execute {
                plan.notes.forEach { print($0) }
                print("cd \(Reproduction.shellQuote(plan.workingDirectory)) && \(line)")
                return
            }
            plan.notes.forEach { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            FileHandle.standardError.write(Data("tessera reproduce: running \(line)\n".utf8))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = command
            if FileManager.default.fileExists(atPath: plan.workingDirectory) {
                process.currentDirectoryURL = URL(fileURLWithPath: plan.workingDirectory)
            }
            try failing { try process.run() }
            process.waitUntilExit()
            if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
        }
    }
}
