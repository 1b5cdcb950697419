import Foundation
import LensInference
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// The HDF5 layout of a selection normalisation (`selection.h5`), written by `tessera selection build` on rank 0,
/// and its loader, which refuses a file of another format, another selection version, or one built over another
/// magnification table version.
///
/// h5py shapes (n = η nodes):
/// - `/nodes` [n, 4] float64 — η nodes (α_sps, halo slope, halo normalisation [log10 M☉], halo scatter [dex])
/// - `/selected` [n] int64 — selected draws of `draws` at each node; A = selected/draws
/// - `/log_a`, `/log_a_sigma` [n] — ln A and its binomial σ(ln A) = √((1 − A)/(A·draws))
/// - `/loo_error` [n] — leave-one-out error of the interpolated ln A at each node
/// - `/round` [n] int32 — 0 for the Halton design, r for refinement round r
/// - `/seconds` [n] float64, `/rank` [n] int64 — cost and rank of each node's Monte Carlo
/// - `/box/lower`, `/box/upper` [4] — the box the design fills; queries outside it are refused
/// - `/interpolant/weights` [n], `/interpolant/tail` [5] — cubic polyharmonic weights and the linear tail, in
///   unit-box coordinates (`RadialBasisInterpolant`); the loader rebuilds them from the nodes and counts
/// - root attributes: `format_version` (this layout, "1"), `selection_version`, `magnification_table_version`,
///   `magnification_table` (path), `sim_id`, `git_commit`, `tessera_version`, `created`, `draws`, `seed`,
///   `tolerance` (requested factor of σ), `achieved_tolerance` (max |loo_error|/σ), `converged` (1/0),
///   `stop_reason`, `max_points`, `configuration` (the resolved configuration as JSON: survey and fixed η)
public enum SelectionTableFile {
    public static let name = "selection.h5"
    public static let formatVersion = "1"

    /// What the build records besides the nodes.
    public struct Record: Sendable, Equatable {
        public var selection: InterpolatedSelection
        public var rounds: [Int32]
        public var seconds: [Double]
        public var ranks: [Int64]
        public var magnificationTableVersion: String
        public var magnificationTable: String
        public var simId: String
        public var gitCommit: String
        public var seed: UInt64
        public var maxPoints: Int
        public var stopReason: String
        public var configurationJSON: String

        public init(selection: InterpolatedSelection, rounds: [Int32], seconds: [Double], ranks: [Int64],
                    magnificationTableVersion: String, magnificationTable: String, simId: String, gitCommit: String,
                    seed: UInt64, maxPoints: Int, stopReason: String, configurationJSON: String) {
            self.selection = selection
            (self.rounds, self.seconds, self.ranks) = (rounds, seconds, ranks)
            (self.magnificationTableVersion, self.magnificationTable) = (magnificationTableVersion, magnificationTable)
            (self.simId, self.gitCommit, self.seed, self.maxPoints) = (simId, gitCommit, seed, maxPoints)
            (self.stopReason, self.configurationJSON) = (stopReason, configurationJSON)
        }
    }

    /// Writes `path` (serially; the file is small) under `path.partial` and renames it.
    public static func write(_ r: Record, to path: String) throws {
        let partial = path + ".partial"
        let file = try HDF5File.create(partial)
        let s = r.selection, n = s.nodes.count
        try file.write(s.nodes.flatMap { $0 }, shape: [n, 4], to: "/nodes")
        try file.write(s.selected.map(Int64.init), to: "/selected")
        try file.write(s.interpolant.values, to: "/log_a")
        try file.write(s.logSigmas, to: "/log_a_sigma")
        try file.write(s.interpolant.leaveOneOutErrors, to: "/loo_error")
        try file.write(r.rounds, to: "/round")
        try file.write(r.seconds, to: "/seconds")
        try file.write(r.ranks, to: "/rank")
        try file.createGroup("/box")
        try file.write(s.lower, to: "/box/lower")
        try file.write(s.upper, to: "/box/upper")
        try file.createGroup("/interpolant")
        try file.write(s.interpolant.weights, to: "/interpolant/weights")
        try file.write(s.interpolant.tail, to: "/interpolant/tail")
        let attributes: [(String, HDF5AttributeValue)] = [
            ("format_version", .string(formatVersion)), ("selection_version", .string(s.version)),
            ("magnification_table_version", .string(r.magnificationTableVersion)),
            ("magnification_table", .string(r.magnificationTable)), ("sim_id", .string(r.simId)),
            ("git_commit", .string(r.gitCommit)), ("tessera_version", .string(TesseraVersion.string)),
            ("created", .string(Timestamp.iso8601())), ("draws", .int(Int64(s.draws))),
            ("seed", .int(Int64(bitPattern: r.seed))), ("tolerance", .double(s.toleranceFactor)),
            ("achieved_tolerance", .double(s.achievedFactor)), ("converged", .int(s.converged ? 1 : 0)),
            ("stop_reason", .string(r.stopReason)), ("max_points", .int(Int64(r.maxPoints))),
            ("configuration", .string(r.configurationJSON)),
        ]
        for (name, value) in attributes { try file.setAttribute(name, value) }
        try file.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }

    /// A file that is not the selection normalisation the caller was built for.
    public struct VersionMismatch: Error, CustomStringConvertible, Equatable {
        public let file: String, attribute: String, found: String, expected: String
        public var description: String {
            "\(file): \(attribute) is '\(found)' but '\(expected)' is required; rebuild it with `tessera selection build` "
                + "(over the magnification table in use) or point to the matching file"
        }
    }

    /// Loads `path`. Refuses (`VersionMismatch`, naming the file and both versions) a file whose
    /// `format_version` is not this layout's, whose `magnification_table_version` differs from
    /// `magnificationTableVersion` (the table the likelihood uses), or whose `selection_version` differs from
    /// `selectionVersion` when one is given (a resumed or reproduced run's recorded version).
    public static func load(_ path: String, magnificationTableVersion: String,
                            selectionVersion: String? = nil) throws -> InterpolatedSelection {
        try read(path, magnificationTableVersion: magnificationTableVersion, selectionVersion: selectionVersion).selection
    }

    /// `load`, with everything the file records.
    public static func read(_ path: String, magnificationTableVersion: String,
                            selectionVersion: String? = nil) throws -> Record {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        func string(_ name: String) throws -> String {
            guard let v = try file.attribute(name).stringValue else {
                throw RunDirectoryError.malformed(file: path, reason: "attribute \(name) is not a string")
            }
            return v
        }
        func number(_ name: String) throws -> Int64 {
            guard let v = try file.attribute(name).intValue else {
                throw RunDirectoryError.malformed(file: path, reason: "attribute \(name) is not an integer")
            }
            return v
        }
        let format = (try? string("format_version")) ?? "none"
        guard format == formatVersion else {
            throw VersionMismatch(file: path, attribute: "format_version", found: format, expected: formatVersion)
        }
        let tableVersion = try string("magnification_table_version")
        guard tableVersion == magnificationTableVersion else {
            throw VersionMismatch(file: path, attribute: "magnification_table_version", found: tableVersion,
                                  expected: magnificationTableVersion)
        }
        let version = try string("selection_version")
        if let selectionVersion, version != selectionVersion {
            throw VersionMismatch(file: path, attribute: "selection_version", found: version, expected: selectionVersion)
        }
        let nodes = try file.read(Double.self, from: "/nodes")
        guard nodes.shape.count == 2, nodes.shape[1] == 4 else {
            throw RunDirectoryError.malformed(file: path, reason: "/nodes has shape \(nodes.shape), expected [n, 4]")
        }
        let n = nodes.shape[0]
        let selected = try file.read(Int64.self, from: "/selected").values
        guard selected.count == n else {
            throw RunDirectoryError.malformed(file: path, reason: "/selected has \(selected.count) values for \(n) nodes")
        }
        guard let toleranceFactor = try file.attribute("tolerance").doubleValue else {
            throw RunDirectoryError.malformed(file: path, reason: "attribute tolerance is not a number")
        }
        let selection: InterpolatedSelection
        do {
            selection = try InterpolatedSelection(
                version: version, nodes: (0..<n).map { Array(nodes.values[($0 * 4)..<($0 * 4 + 4)]) },
                selected: selected.map { Int($0) }, draws: Int(try number("draws")),
                lower: try file.read(Double.self, from: "/box/lower").values,
                upper: try file.read(Double.self, from: "/box/upper").values, toleranceFactor: toleranceFactor)
        } catch let error as LensInferenceError {
            throw RunDirectoryError.malformed(file: path, reason: "\(error)")
        }
        return Record(selection: selection, rounds: try file.read(Int32.self, from: "/round").values,
                      seconds: try file.read(Double.self, from: "/seconds").values,
                      ranks: try file.read(Int64.self, from: "/rank").values,
                      magnificationTableVersion: tableVersion, magnificationTable: try string("magnification_table"),
                      simId: try string("sim_id"), gitCommit: try string("git_commit"),
                      seed: UInt64(bitPattern: try number("seed")), maxPoints: Int(try number("max_points")),
                      stopReason: try string("stop_reason"), configurationJSON: try string("configuration"))
    }
}
