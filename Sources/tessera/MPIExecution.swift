import ArgumentParser
import Foundation
import LensingRuns
import RunKit
import SceneRuns
import SystemPackage
import TesseraLinAlg
import TesseraMPI
import TesseraRun

/// Runs a command body on every MPI rank and turns errors into a clear message and exit status.
///
/// Errors that every rank raises alike (a bad configuration, rank 0 refusing the output
/// directory, a failed self-test check, all of which are broadcast) end the job cleanly: rank 0
/// prints, every rank finalises MPI and exits 1. Any other error is rank-local, so other ranks
/// may be waiting for this one: it is printed with the rank and the whole job is aborted, which
/// is the only way not to leave it hanging. A run stopped by the launcher (`RunInterrupted`, on
/// rank 0) is printed and ends the process at once.
enum MPIExecution {
    static func run(_ body: (Communicator) throws -> Void) throws {
        let comm: Communicator
        do { comm = try MPIEnvironment.initialize() } catch {
            FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        BLASInfo.useCallingThreadUnlessConfigured()
        do {
            try body(comm)
        } catch let stopped as RunInterrupted {
            // The launcher is ending every rank (a rank or host was lost, or a time limit): rank 0
            // says what was in flight and what is kept before its SIGKILL; MPI cannot be finalised now.
            if comm.isRoot { FileHandle.standardError.write(Data("tessera: \(stopped)\n".utf8)) }
            throw ExitCode(128 + stopped.stopped.signal)
        } catch {
            let everyRank = error is ConfigError || error is RunStartError || error is SelfTestFailure
                || error is TabulationIncomplete || error is SceneInputError
            if everyRank {
                if comm.isRoot { FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8)) }
                try? MPIEnvironment.finalize()
                throw ExitCode.failure
            }
            let prefix = comm.size > 1 ? "tessera: error on rank \(comm.rank): " : "tessera: error: "
            FileHandle.standardError.write(Data("\(prefix)\(error)\n".utf8))
            if comm.size > 1 { comm.abort(code: 1) }
            try? MPIEnvironment.finalize()
            throw ExitCode.failure
        }
        try MPIEnvironment.finalize()
    }
}

/// Print a message and exit 1 for errors outside MPI (argument checks, reading files).
func failing<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let exit as ExitCode { throw exit } catch {
        FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// The configuration file of a command that can resume: with `--resume DIR` it is DIR's
/// `params.json` and no other input may be given; otherwise the `--config`/`--grid` file.
func configurationFile(resume: String?, given: String?, option: String, others: [String?] = []) throws -> String {
    if let resume {
        guard given == nil && others.allSatisfy({ $0 == nil }) else {
            throw ConfigError.invalidValue(file: "command line", field: "--resume",
                                           reason: "give either --resume DIR alone, or \(option) (and --out)")
        }
        return FilePath(resume).appending(RunDirectory.paramsFile).string
    }
    guard let given else {
        throw ConfigError.invalidValue(file: "command line", field: option, reason: "a configuration file is required")
    }
    return given
}

/// The options of a run that can be resumed: `--config FILE [--out DIR]` for a new run, or
/// `--resume DIR` alone (the run's own `params.json` is then the configuration).
struct ResumableRunOptions: ParsableArguments {
    @Option(help: "YAML configuration.") var config: String?
    @Option(help: "Run directory to create.") var out: String?
    @Option(help: "Continue the run in this directory (its params.json is the configuration).") var resume: String?

    /// The configuration file to load.
    func configFile() throws -> String {
        try configurationFile(resume: resume, given: config, option: "--config", others: [out])
    }

    /// The run directory: the resumed one, `--out`, or a timestamped default named after `command`.
    func output(command: String) -> String { resume ?? out ?? defaultRunDirectory(command) }

    /// The inputs recorded in a new run's metadata (none on resume: they were recorded then).
    func inputs(_ files: [String]) -> [String] { resume == nil ? files : [] }
}
