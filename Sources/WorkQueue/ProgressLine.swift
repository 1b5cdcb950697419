import Foundation

/// Progress output for long runs on rank 0: "cells 12/40 (30%), 0.8/s, ETA 35 s".
///
/// On a terminal the line is redrawn in place; in a batch log a plain line is printed at most
/// every `interval` seconds, and always for the last item. Under mpirun or SLURM the plain form
/// is always used: OpenMPI hands ranks a pseudo-terminal even when the job's output goes to a
/// file, so `isatty` cannot tell, and redrawn lines would fill a batch log with carriage returns.
public struct ProgressLine {
    public let label: String
    public let total: Int
    public let interval: Double
    private let isTerminal: Bool
    private var lastPrint = -Double.infinity

    public init(label: String, total: Int, interval: Double = 10) {
        self.label = label
        self.total = total
        self.interval = interval
        let launched = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_JOB_ID"]
            .contains { ProcessInfo.processInfo.environment[$0] != nil }
        isTerminal = isatty(STDOUT_FILENO) != 0 && !launched
    }

    /// The text for `done` of `total` after `elapsed` seconds.
    public static func format(label: String, done: Int, total: Int, elapsed: Double) -> String {
        let percent = total > 0 ? 100 * Double(done) / Double(total) : 100
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        var text = "\(label) \(done)/\(total) (\(String(format: "%.0f", percent))%)"
        text += rate > 0 ? String(format: ", %.3g/s", rate) : ""
        if rate > 0 && done < total {
            text += ", ETA " + duration(Double(total - done) / rate)
        } else if done >= total {
            text += ", " + duration(elapsed)
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 90 { return String(format: "%.0f s", seconds) }
        if seconds < 5400 { return String(format: "%.0f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    public mutating func update(done: Int, elapsed: Double) {
        show(Self.format(label: label, done: done, total: total, elapsed: elapsed), elapsed: elapsed, final: done >= total)
    }

    /// Shows a caller-formatted progress text with the same rules: redrawn in place on a
    /// terminal, otherwise a plain line at most every `interval` seconds and always when `final`.
    public mutating func show(_ text: String, elapsed: Double, final: Bool) {
        if isTerminal {
            print("\r\(text)\u{1B}[K", terminator: final ? "\n" : "")
            fflush(nil)
        } else if final || elapsed - lastPrint >= interval {
            print(text)
            fflush(nil)
            lastPrint = elapsed
        }
    }
}
