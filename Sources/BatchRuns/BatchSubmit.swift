import Foundation
import SystemPackage

/// `tessera batch run`: submits the chunks as one SLURM job array where `sbatch` is on the PATH,
/// otherwise runs them one after another on this machine with their `run.sh` (mpirun).
public enum BatchSubmit {
    public enum Mode: String, Sendable { case slurm, local }

    /// Which chunks to run: all, or those `verify` listed in `RUN/resubmit.txt`.
    public static func selection(run: String, resubmit: Bool) throws -> [Int] {
        let all = try BatchStatus.chunkList(run: run)
        guard resubmit else { return Array(all.indices) }
        let path = BatchLayout(run: run).path(BatchLayout.resubmitFile)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw BatchError(file: path, detail: "no resubmission list; run `tessera batch verify` first")
        }
        return try text.split(separator: "\n").map { line in
            guard let i = Int(line), all.indices.contains(i) else {
                throw BatchError(file: path, detail: "'\(line)' is not a chunk index (0..<\(all.count))")
            }
            return i
        }
    }

    /// `sbatch`'s path if SLURM is usable here, else nil.
    public static func sbatchPath() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/sbatch"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Submits `indices` as a job array (`--array=i,j,…`); with `wait`, returns when every task
    /// has ended (`sbatch --wait`). Returns sbatch's output (the job id).
    public static func submitArray(run: String, indices: [Int], wait: Bool, sbatch: String,
                                   log: (String) -> Void = { print($0) }) throws -> String {
        guard !indices.isEmpty else { log("batch run: nothing to submit"); return "" }
        let layout = BatchLayout(run: run)
        let array = compress(indices)
        var arguments = ["--parsable", "--chdir=\(run)", "--array=\(array)"]
        if wait { arguments.append("--wait") }
        arguments.append(layout.path(BatchLayout.arrayScript))
        log("batch run: sbatch \(arguments.joined(separator: " "))")
        let (status, output) = try runProcess(sbatch, arguments, logFile: nil)
        guard status == 0 else {
            throw BatchError(file: layout.path(BatchLayout.arrayScript), detail: "sbatch exited with status \(status): \(output)")
        }
        let id = output.split(separator: "\n").first.map(String.init) ?? ""
        log("batch run: job array \(id), \(indices.count) chunk(s)\(wait ? ", finished" : "; check with squeue, then tessera batch verify \(run)")")
        return id
    }

    /// Runs the chunks one after another here (their `run.sh`), each logging to
    /// `RUN/logs/chunk-<index>.log`; a failed chunk is reported and the next one starts.
    /// Returns the indices of the chunks that failed.
    public static func runLocally(run: String, indices: [Int], environment: [String: String] = [:],
                                  log: (String) -> Void = { print($0) }) throws -> [Int] {
        let layout = BatchLayout(run: run)
        let chunks = try BatchStatus.chunkList(run: run)
        try FileManager.default.createDirectory(atPath: layout.path(BatchLayout.logsDirectory), withIntermediateDirectories: true)
        var failed: [Int] = []
        for (n, i) in indices.enumerated() {
            let logFile = layout.path("\(BatchLayout.logsDirectory)/chunk-\(i).log")
            let start = Date()
            let (status, _) = try runProcess("/bin/bash", [layout.path("\(chunks[i])/run.sh")], logFile: logFile, environment: environment)
            let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
            if status != 0 { failed.append(i) }
            log("batch run: chunk \(n + 1)/\(indices.count) \(chunks[i]) \(status == 0 ? "done" : "FAILED (status \(status), see \(logFile))") in \(seconds) s")
        }
        return failed
    }

    /// "0-3,7,9-10" for [0, 1, 2, 3, 7, 9, 10]: SLURM's --array syntax.
    static func compress(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let s = indices.sorted()
        while i < s.count {
            var j = i
            while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
            parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    static func runProcess(_ executable: String, _ arguments: [String], logFile: String?,
                           environment: [String: String] = [:]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        if let logFile {
            FileManager.default.createFile(atPath: logFile, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
            p.standardOutput = handle
            p.standardError = handle
        } else {
            p.standardOutput = pipe
            p.standardError = pipe
        }
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = logFile == nil ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
