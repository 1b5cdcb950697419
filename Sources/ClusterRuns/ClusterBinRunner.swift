import ClusterFitting
import Foundation
import SystemPackage
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// The halo membership of the bins of a fit run: `bins.csv` (`id,bin`, grouped bin by bin) as
/// `tessera clusters bin` writes it.
public struct ClusterBins: Sendable, Equatable {
    public var labels: [String]
    public var members: [[String]]

    /// Read `bins.csv`; bins in order of first appearance.
    public static func read(_ path: String) throws -> ClusterBins {
        let table = try CSVTable.read(path)
        let ids = try table.strings("id"), bins = try table.strings("bin")
        var labels: [String] = [], members: [[String]] = [], index: [String: Int] = [:]
        for (id, bin) in zip(ids, bins) {
            if index[bin] == nil { index[bin] = labels.count; labels.append(bin); members.append([]) }
            members[index[bin]!].append(id)
        }
        return ClusterBins(labels: labels, members: members)
    }

    /// A label usable in file names and HDF5 paths.
    static func isValidLabel(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
        }
    }
}

/// `tessera clusters bin RUN`: assign the fit run's halos to bins, by edges on a `summary.csv`
/// column or by an external command, and write the membership lists into the output directory:
/// `bins.csv` (`id,bin` for every binned halo), `bin-<label>.txt` (one id a line, per non-empty
/// bin) and `bin_summary.csv` (`bin,column,lower,upper,halos,status`).
///
/// A bin with no halos is, with `empty_bins: skip`, logged and listed in `bin_summary.csv` with
/// status `skipped-empty` and no membership list; with `empty_bins: error` the run fails naming it.
public enum ClusterBinRunner {
    public struct Summary: Sendable, Equatable {
        public var labels: [String]
        public var counts: [Int]
        public var emptyBins: [String]
        public var unbinned: [String]
    }

    public static func run(_ c: ClusterBinConfiguration, fitRun: String, output: String,
                           log: (String) -> Void = { print($0) }) throws -> Summary {
        let summaryPath = FilePath(fitRun).appending("summary.csv").string
        guard FileManager.default.fileExists(atPath: summaryPath) else {
            throw ClusterRunError(file: summaryPath, message: "no summary table; is \(fitRun) a finished `tessera clusters fit` run?")
        }
        let table = try CSVTable.read(summaryPath)
        let ids = try table.strings("id")
        let binning: HaloBinning
        var columnName = ""
        if c.command.isEmpty {
            columnName = c.column
            let values = try table.doubles(c.column)
            do { binning = try HaloBinning(values: values, edges: c.edges, field: "edges") } catch {
                throw ClusterRunError(file: "configuration", message: "\(error)")
            }
        } else {
            columnName = "command"
            let labels = try externalLabels(command: c.command, summary: summaryPath,
                                            fits: FilePath(fitRun).appending("summary.fits").string, ids: ids)
            binning = HaloBinning(labels: labels)
        }
        let empty = binning.emptyBins
        if !empty.isEmpty && c.emptyBins == "error" {
            throw ClusterRunError(file: summaryPath, message: "bin(s) \(empty.joined(separator: ", ")) of \(columnName) have no halos (empty_bins: error)")
        }
        var bins = [["id", "bin"]], summary = [["bin", "column", "lower", "upper", "halos", "status"]]
        for (k, label) in binning.labels.enumerated() {
            let members = binning.members[k].map { ids[$0] }
            let edge = binning.edges[k]
            let range = edge.map { "[\($0.lower), \($0.upper)\(k == binning.labels.count - 1 ? "]" : ")")" } ?? ""
            if members.isEmpty {
                log("clusters bin: bin \(label) \(range) of \(columnName) has no halos; skipped (no membership list)")
            } else {
                try ClusterTables.writeLines(members, to: FilePath(output).appending("bin-\(label).txt").string)
                bins += members.map { [$0, label] }
            }
            summary.append([label, columnName, edge.map { "\($0.lower)" } ?? "", edge.map { "\($0.upper)" } ?? "", "\(members.count)", members.isEmpty ? "skipped-empty" : "ok"])
        }
        try ClusterTables.writeCSV(bins, to: FilePath(output).appending("bins.csv").string)
        try ClusterTables.writeCSV(summary, to: FilePath(output).appending("bin_summary.csv").string)
        let unbinned = binning.unbinned.map { ids[$0] }
        if !unbinned.isEmpty { log("clusters bin: \(unbinned.count) halo(s) in no bin (outside the edges, no value, or not labelled)") }
        log("clusters bin: \(ids.count) halos into \(binning.labels.count - empty.count) non-empty bin(s) of \(columnName): "
            + zip(binning.labels, binning.members).map { "\($0)=\($1.count)" }.joined(separator: " "))
        return Summary(labels: binning.labels, counts: binning.members.map(\.count), emptyBins: empty, unbinned: unbinned)
    }

    /// Run the user's command (`/bin/sh -c COMMAND tessera-bin SUMMARY`) and parse its `id,bin` lines.
    static func externalLabels(command: String, summary: String, fits: String, ids: [String]) throws -> [String?] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command, "tessera-bin", summary]
        var env = ProcessInfo.processInfo.environment
        env["TESSERA_SUMMARY_CSV"] = summary
        env["TESSERA_SUMMARY_FITS"] = fits
        process.environment = env
        // stdout through a pipe, stderr into a scratch file (read after exit), so a chatty
        // command cannot block on a full pipe.
        let errPath = NSTemporaryDirectory() + "tessera-bin-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        let where_ = "binning command '\(command)'"
        guard process.terminationStatus == 0 else {
            throw ClusterRunError(file: where_, message: "exited with status \(process.terminationStatus): "
                                  + (String(data: errData, encoding: .utf8) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let index = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var labels = [String?](repeating: nil, count: ids.count)
        let lines = (String(data: outData, encoding: .utf8) ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for (n, line) in lines.enumerated() where !line.isEmpty {
            let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if n == 0 && f == ["id", "bin"] { continue }
            guard f.count == 2 else { throw ClusterRunError(file: where_, message: "output line \(n + 1) '\(line)' is not `id,bin`") }
            guard let i = index[f[0]] else { throw ClusterRunError(file: where_, message: "output line \(n + 1): no halo '\(f[0])' in \(summary)") }
            guard ClusterBins.isValidLabel(f[1]) else {
                throw ClusterRunError(file: where_, message: "output line \(n + 1): bin label '\(f[1])' must be letters, digits, '.', '_' or '-'")
            }
            guard labels[i] == nil else { throw ClusterRunError(file: where_, message: "output line \(n + 1): halo '\(f[0])' given twice") }
            labels[i] = f[1]
        }
        return labels
    }
}
