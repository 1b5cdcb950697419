import Foundation
import SystemPackage

/// How to redo a finished run: the command recorded in its `metadata.json`, pointed at its
/// `params.json`, with a fresh output directory so the original results are never touched.
public struct Reproduction: Sendable, Equatable {
    /// The launcher and its arguments (`mpirun -np N`) when the run used more than one rank.
    public var launcher: [String]
    /// Executable, subcommand and its arguments.
    public var command: [String]
    public var workingDirectory: String
    /// Lines to print before the command (code version notes).
    public var notes: [String]

    public var fullCommand: [String] { launcher + command }

    /// A shell-safe rendering of the command.
    public var shellLine: String { fullCommand.map(Self.shellQuote).joined(separator: " ") }

    public static func shellQuote(_ word: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !word.isEmpty && word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Build the reproduction of the run in `runDirectory`.
    /// - Parameters:
    ///   - output: where the rerun writes; default `<run>-rerun`.
    ///   - executable: the tessera binary to use; default the one that made the run.
    ///   - current: the code version now, to warn when it differs from the recorded one.
    public static func plan(runDirectory: String, output: String? = nil, executable: String? = nil,
                            current: SourceVersion? = nil) throws -> Reproduction {
        let run = RunPaths.absolute(runDirectory)
        let metadata = try RunDirectory.readMetadata(of: run)
        let params = FilePath(run).appending(RunDirectory.paramsFile).string
        guard FileManager.default.fileExists(atPath: params) else {
            throw RunDirectoryError.notARunDirectory(path: runDirectory, missing: RunDirectory.paramsFile)
        }
        let out = output.map(RunPaths.absolute) ?? run + "-rerun"
        var notes: [String] = []
        notes.append("# run made by tessera \(metadata.tesseraVersion) on \(metadata.mpiSize) rank(s), \(metadata.startTime)")
        if let commit = metadata.gitCommit {
            notes.append("# code: git commit \(commit)" + (metadata.gitDirty == true ? " (with uncommitted changes)" : ""))
            if let now = current?.commit, now != commit {
                notes.append("# the code here is at \(now); to match, first run: git checkout \(commit)")
            }
        } else {
            notes.append("# code version was not recorded (no git checkout and no TESSERA_GIT_COMMIT)")
        }
        for input in metadata.inputs {
            notes.append("# input \(input.path): \(input.sha256.map { "sha256 \($0)" } ?? "\(input.bytes) bytes")")
        }
        let launcher = metadata.mpiSize > 1 ? ["mpirun", "-np", String(metadata.mpiSize)] : []
        // A command may be a subcommand path such as "clusters fit".
        let command = [executable ?? metadata.executable] + metadata.command.split(separator: " ").map(String.init)
            + ["--config", params, "--out", out]
        return Reproduction(launcher: launcher, command: command, workingDirectory: metadata.workingDirectory, notes: notes)
    }
}
