import Foundation
import SystemPackage
import TesseraHDF5
import TesseraMPI
import TesseraRun
import TesseraSupport
import WorkQueue

/// The bookkeeping every result-producing command shares: rank 0 owns the run directory
/// (`params.json`, `metadata.json`); all ranks learn its path and take part in gathering host names.
///
/// Collective: every rank must call `start` and `finish`.
public struct RunContext {
    public let communicator: Communicator
    /// Absolute path of the run directory (the same on every rank).
    public let directory: String
    /// The run directory object; only on rank 0.
    public let run: RunDirectory?
    /// The command, as recorded (e.g. "clusters fit").
    public let command: String
    /// Whether `tessera COMMAND --resume DIR` continues this run after a stop.
    public let resumable: Bool

    /// Create the run directory on rank 0 and record the configuration and metadata.
    /// A failure on rank 0 (e.g. the directory already holds results) is re-raised on every rank.
    ///
    /// Before anything is recorded, every rank checks that it sees the run directory and the
    /// input files as rank 0 does (`SharedVisibility`); if not, every rank throws one
    /// `RunStartError` naming the hosts that cannot see them, and a directory made for this run
    /// is removed again. `inputs` are recorded in `metadata.json` and checked; `sharedInputs` are
    /// only checked (files or folders the other ranks read, also when resuming). `resumable`:
    /// the command continues a stopped run with `--resume DIR` (said when the run is stopped).
    public static func start<C: Configuration>(command: String, configuration: C, output: String, seed: UInt64?,
                                               inputs: [String] = [], sharedInputs: [String] = [],
                                               tableVersion: String? = nil, simId: String? = nil,
                                               selectionTableVersion: String? = nil,
                                               libraries: LibraryVersions, communicator: Communicator,
                                               resume: Bool = false, resumable: Bool = false) throws -> RunContext {
        // Rank 0's choice of directory wins (a default name may contain a timestamp).
        let output = try communicator.broadcast(message: communicator.isRoot ? RunPaths.absolute(output) : nil)
        // A new run's directory is made now, so that every rank can look for it. If that fails,
        // rank 0's RunDirectory below reports why.
        var made = false
        if communicator.isRoot && !resume && !FileManager.default.fileExists(atPath: output) {
            made = (try? FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)) != nil
        }
        var checked: [String] = []
        for path in inputs + sharedInputs where !checked.contains(path) { checked.append(path) }
        let hosts = try SharedVisibility.check(directory: output, inputs: checked, communicator: communicator,
                                               removeDirectoryOnFailure: made)
        var run: RunDirectory?
        var failure: String?
        if communicator.isRoot {
            do {
                let version = SourceVersion.detect()
                var metadata = RunMetadata(
                    tesseraVersion: TesseraVersion.string, command: command, arguments: CommandLine.arguments,
                    executable: RunPaths.resolvedExecutable(CommandLine.arguments.first ?? "tessera"),
                    workingDirectory: FileManager.default.currentDirectoryPath,
                    gitCommit: version.commit, gitDirty: version.dirty, gitSource: version.source,
                    startTime: Timestamp.iso8601(), endTime: nil, status: .running, error: nil,
                    mpiSize: communicator.size, hosts: hosts, seed: seed,
                    inputs: try inputs.map { try InputFileRecord.describe($0) }, tableVersion: tableVersion,
                    libraries: libraries)
                metadata.simId = simId
                metadata.selectionTableVersion = selectionTableVersion
                run = try RunDirectory(creating: output, command: command, configuration: configuration,
                                       metadata: metadata, resume: resume)
            } catch {
                failure = "\(error)"
            }
        }
        // Everyone learns whether rank 0 succeeded, so no rank is left waiting in a collective.
        let outcome = try communicator.broadcast(message: communicator.isRoot ? StartOutcome(error: failure) : nil)
        if let error = outcome.error { throw RunStartError(message: error) }
        return RunContext(communicator: communicator, directory: output, run: run, command: command, resumable: resumable)
    }

    /// A path inside the run directory.
    public func file(_ name: String) -> String { FilePath(directory).appending(name).string }

    /// Record the end of the run in `metadata.json` (rank 0; a no-op elsewhere).
    public func finish(error: (any Error)? = nil) throws {
        try run?.finish(error: error)
    }

    /// Run `body`, then record the run as finished, or as failed with the error `body` threw
    /// (which is then rethrown). A stop by the launcher (`WorkQueueStopped`, on the master) is
    /// rethrown as `RunInterrupted`, which adds what is kept and how to continue.
    public func finishing<T>(_ body: () throws -> T) throws -> T {
        let value: T
        do { value = try body() } catch let stopped as WorkQueueStopped {
            let interrupted = RunInterrupted(stopped: stopped, directory: directory, command: command, resumable: resumable)
            try? finish(error: interrupted)
            throw interrupted
        } catch {
            try? finish(error: error)
            throw error
        }
        try finish()
        return value
    }

    private struct StartOutcome: Codable { let error: String? }
}

/// Rank 0 could not create the run directory; every rank throws this with rank 0's message.
public struct RunStartError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// The launcher stopped the job while the master handed out work (a rank or its host was lost,
/// or a time limit): what was in flight, what is kept, and how to continue. Thrown on rank 0 only;
/// the other ranks are being killed.
public struct RunInterrupted: Error, CustomStringConvertible {
    public let stopped: WorkQueueStopped
    public let directory: String
    public let command: String
    public let resumable: Bool

    public var description: String {
        "\(stopped)\n  kept: every result checked in before the stop, in \(directory) (metadata.json: status failed)\n  "
            + (resumable ? "continue with: tessera \(command) --resume \(directory)  (on hosts that remain)"
                         : "`tessera \(command)` cannot resume: run it again")
    }
}
