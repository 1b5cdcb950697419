import Foundation

/// Which commit of Tessera's code is running, for `metadata.json`.
///
/// Order of evidence: the `TESSERA_GIT_COMMIT` environment variable (set by an installer or a
/// job script for a binary copied away from its checkout), then the git working tree that holds
/// the executable (the usual case: `.build/release/tessera` inside the clone), asked with `git`.
/// If neither is available the commit is recorded as unknown rather than guessed.
public struct SourceVersion: Codable, Sendable, Equatable {
    public var commit: String?
    /// True when the working tree had uncommitted changes to tracked files.
    public var dirty: Bool?
    /// "environment", "working-tree" or "unknown".
    public var source: String

    public static func detect(executablePath: String = CommandLine.arguments.first ?? "") -> SourceVersion {
        let env = ProcessInfo.processInfo.environment
        if let commit = env["TESSERA_GIT_COMMIT"], !commit.isEmpty {
            return SourceVersion(commit: commit, dirty: nil, source: "environment")
        }
        guard let root = gitRoot(containing: RunPaths.resolvedExecutable(executablePath)) else {
            return SourceVersion(commit: nil, dirty: nil, source: "unknown")
        }
        guard let head = runGit(["-C", root, "rev-parse", "HEAD"]) else {
            return SourceVersion(commit: nil, dirty: nil, source: "unknown")
        }
        let status = runGit(["-C", root, "status", "--porcelain", "--untracked-files=no"])
        return SourceVersion(commit: head, dirty: status.map { !$0.isEmpty }, source: "working-tree")
    }

    /// The nearest ancestor directory of `path` that contains `.git`.
    static func gitRoot(containing path: String) -> String? {
        var url = URL(fileURLWithPath: path).deletingLastPathComponent()
        while url.path != "/" && !url.path.isEmpty {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(".git").path) { return url.path }
            url.deleteLastPathComponent()
        }
        return nil
    }

    /// Output of a git command with whitespace trimmed, or nil if git is missing or fails.
    static func runGit(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Path helpers shared by bookkeeping and reproduction.
public enum RunPaths {
    /// The absolute path of the running executable (argv[0] may be relative or a bare name).
    public static func resolvedExecutable(_ argv0: String) -> String {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
           URL(fileURLWithPath: link).lastPathComponent == URL(fileURLWithPath: argv0).lastPathComponent || argv0.isEmpty {
            return link
        }
        return absolute(argv0)
    }

    /// `path` made absolute against the current directory, standardised.
    public static func absolute(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }
}
