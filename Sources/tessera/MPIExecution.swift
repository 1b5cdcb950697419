import ArgumentParser
import Foundation
import ImageStores
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
/// is the only way not to leave it hanging. Before aborting, the failed rank waits a few seconds
/// on a private barrier (`FailureAgreement`): when every rank failed (an unreadable input that
/// each rank opens, say), rank 0 prints one line for all of them and the job ends without an
/// abort. A run stopped by the launcher (`RunInterrupted`, on rank 0) is printed and ends the
/// process at once.
enum MPIExecution {
    static func run(_ body: (Communicator) throws -> Void) throws {
        let comm: Communicator
        do { comm = try MPIEnvironment.initialize() } catch {
            FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        BLASInfo.useCallingThreadUnlessConfigured()
        let agreement: FailureAgreement?
        do { agreement = comm.size > 1 ? try FailureAgreement(world: comm) : nil } catch {
            FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        do {
            try body(comm)
        } catch let stopped as RunInterrupted {
            // The launcher is ending every rank (a rank or host was lost, or a time limit): rank 0
            // says what was in flight and what is kept before its SIGKILL; MPI cannot be finalised now.
            if comm.isRoot { FileHandle.standardError.write(Data("tessera: \(stopped)\n".utf8)) }
            throw ExitCode(128 + stopped.stopped.signal)
        } catch {
            let everyRank = error is ConfigError || error is RunStartError || error is SelfTestFailure
                || error is TabulationIncomplete || error is SceneInputError || error is SelectionBuildIncomplete
            if everyRank {
                if comm.isRoot { FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8)) }
                try? MPIEnvironment.finalize()
                throw ExitCode.failure
            }
            if let agreement, let messages = agreement.everyRankFailed(message: "\(error)", within: failureWait) {
                if comm.isRoot { FileHandle.standardError.write(Data(oneReport(messages).utf8)) }
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

    /// Seconds a failed rank waits for the others to fail too before it aborts the job.
    static let failureWait = 3.0

    /// The report of a failure on every rank: one line when all ranks say the same (the usual
    /// case: they all opened the same bad file), else one line per distinct message with its ranks.
    static func oneReport(_ messages: [String]) -> String {
        let distinct = messages.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if distinct.count == 1 { return "tessera: error: \(distinct[0])\n" }
        return distinct.map { m in
            let ranks = messages.indices.filter { messages[$0] == m }.map(String.init).joined(separator: ",")
            return "tessera: error on rank\(ranks.contains(",") ? "s" : "") \(ranks): \(m)\n"
        }.joined()
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
