import Foundation
import SystemPackage
import TesseraMPI

/// The start-up check that every rank sees the same run directory and the same input files.
///
/// On a cluster, a run directory on node-local disk (`/tmp`, `/scratch` of one node) is a classic
/// failure: rank 0 writes there and the ranks on other nodes see nothing, or a different folder
/// of the same name. So before any work, rank 0 writes a token file with random content into the
/// directory and tells every rank its name and content and what it sees of each input (size of
/// a file, entry count of a folder); every rank reads the token back and looks at the inputs;
/// rank 0 gathers what they saw and, if any rank differs, every rank throws one `RunStartError`
/// that names the hosts and ranks. The token is removed before the check returns, so no run
/// directory keeps it. On one host it costs well under a millisecond of file work and three
/// small collectives.
public enum SharedVisibility {
    /// Prefix of the token file's name inside the checked directory.
    public static let tokenPrefix = ".tessera-visibility-"

    /// A rank that sees something different looks again for up to this many seconds (a network
    /// file system may show a new file to other clients a moment later), so the error still comes
    /// within about half a second.
    static let patience: Double = 0.5

    /// What rank 0 shares.
    public struct Probe: Codable, Sendable, Equatable {
        /// The directory every rank must see, or nil when rank 0 could not write a token there
        /// (then the run directory step reports that error itself).
        public var directory: String?
        public var tokenName: String
        public var token: String
        /// The input paths, and what rank 0 sees of each (nil: rank 0 cannot read it either,
        /// which the run's own input checks report; such an input is not compared).
        public var inputs: [String]
        public var expected: [String?]

        public init(directory: String?, tokenName: String, token: String, inputs: [String], expected: [String?]) {
            self.directory = directory
            self.tokenName = tokenName
            self.token = token
            self.inputs = inputs
            self.expected = expected
        }
    }

    /// What one rank saw of the directory.
    public enum DirectoryView: String, Codable, Sendable, Equatable {
        /// Read the token with rank 0's content.
        case same
        /// No such directory on this rank's host.
        case missing
        /// A directory of that name exists but holds no (or another) token: a different folder.
        case different
        /// No directory was checked.
        case unchecked
    }

    /// What one rank saw.
    public struct View: Codable, Sendable, Equatable {
        public var host: String
        public var directory: DirectoryView
        /// Per input, in the probe's order: what this rank sees (nil: it cannot read it).
        public var inputs: [String?]

        public init(host: String, directory: DirectoryView, inputs: [String?]) {
            self.host = host
            self.directory = directory
            self.inputs = inputs
        }
    }

    /// The advice every visibility error ends with.
    public static let advice = "put run directories and inputs on a file system every node mounts (see README \"Running on clusters\")"

    // MARK: The collective check

    /// Collective: check that every rank sees `directory` (rank 0 must have created it) and the
    /// `inputs` as rank 0 does. Returns every rank's host name on rank 0 (in rank order) and this
    /// rank's host elsewhere. Throws one `RunStartError` on every rank if any rank differs; rank 0
    /// then also removes `directory` if `removeDirectoryOnFailure` and it is empty.
    @discardableResult
    public static func check(directory: String?, inputs: [String], communicator comm: Communicator,
                             removeDirectoryOnFailure: Bool = false) throws -> [String] {
        let host = (try? MPIEnvironment.processorName()) ?? ProcessInfo.processInfo.hostName
        let probe = try comm.broadcast(message: comm.isRoot ? prepare(directory: directory, inputs: inputs) : nil)
        let view = observe(probe, host: host)
        let views = try comm.gather(message: view)
        var problem: String?
        if let views {
            removeToken(probe)
            problem = self.problem(probe: probe, views: views)
            if problem != nil, removeDirectoryOnFailure, let directory = probe.directory {
                removeIfEmpty(directory)
            }
        }
        let outcome = try comm.broadcast(message: comm.isRoot ? [problem].compactMap { $0 } : nil)
        if let problem = outcome.first { throw RunStartError(message: problem) }
        return views?.map(\.host) ?? [host]
    }

    // MARK: Steps (rank 0 prepares and cleans up; every rank observes)

    /// Rank 0: write a token with random content into `directory` and describe the inputs.
    static func prepare(directory: String?, inputs: [String]) -> Probe {
        let tokenName = tokenPrefix + UUID().uuidString
        let token = "\(UUID().uuidString) \(ProcessInfo.processInfo.hostName) pid \(getpid())"
        var checked: String?
        if let directory {
            let path = FilePath(directory).appending(tokenName).string
            // Written in place (FileManager.createFile would go through a second, temporary name).
            if (try? Data(token.utf8).write(to: URL(fileURLWithPath: path))) != nil { checked = directory }
        }
        return Probe(directory: checked, tokenName: tokenName, token: token, inputs: inputs,
                     expected: inputs.map(fingerprint))
    }

    /// Every rank: what it sees, looking again for up to `patience` seconds while it differs.
    static func observe(_ probe: Probe, host: String, patience: Double = SharedVisibility.patience) -> View {
        let deadline = Date().addingTimeInterval(patience)
        while true {
            let view = View(host: host, directory: directoryView(probe), inputs: probe.inputs.map(fingerprint))
            let consistent = (view.directory == .same || view.directory == .unchecked)
                && zip(view.inputs, probe.expected).allSatisfy { seen, expected in expected == nil || seen == expected }
            if consistent || Date() >= deadline { return view }
            usleep(100_000)
        }
    }

    static func directoryView(_ probe: Probe) -> DirectoryView {
        guard let directory = probe.directory else { return .unchecked }
        let path = FilePath(directory).appending(probe.tokenName).string
        if let data = FileManager.default.contents(atPath: path) {
            return String(decoding: data, as: UTF8.self) == probe.token ? .same : .different
        }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue
            ? .different : .missing
    }

    /// Rank 0, after every rank has looked: remove the token.
    static func removeToken(_ probe: Probe) {
        guard let directory = probe.directory else { return }
        try? FileManager.default.removeItem(atPath: FilePath(directory).appending(probe.tokenName).string)
    }

    static func removeIfEmpty(_ directory: String) {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: directory), entries.isEmpty {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// What a rank sees of a path: "N bytes" for a file it can open, "a folder of N entries" for a
    /// directory, nil if it cannot read it. Opening the file (rather than only stat-ing it) makes
    /// an NFS client fetch fresh attributes and proves the file is readable.
    public static func fingerprint(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
            return "a folder of \(entries.count) entries"
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return nil }
        return "\(size) bytes"
    }

    // MARK: The verdict (pure)

    /// The error message for the gathered views (index = rank), or nil when every rank sees what
    /// rank 0 sees. Ranks that differ alike on one host are named together.
    public static func problem(probe: Probe, views: [View]) -> String? {
        var parts: [String] = []
        let rootHost = views.first?.host ?? "?"
        if let directory = probe.directory {
            for (_, ranks) in grouped(views, where: { $0.directory != .same && $0.directory != .unchecked },
                                        key: { "\($0.host)\u{0}\($0.directory.rawValue)" }) {
                let view = views[ranks[0]]
                let why = view.directory == .missing
                    ? "no such directory there"
                    : "a different folder of that name is there (it lacks the check file rank 0 wrote on \(rootHost))"
                parts.append("run directory \(directory) is not visible from host \(view.host) (\(rankList(ranks))): \(why)")
            }
        }
        for (i, path) in probe.inputs.enumerated() {
            guard let expected = probe.expected[i] else { continue }
            for (_, ranks) in grouped(views, where: { $0.inputs.indices.contains(i) && $0.inputs[i] != expected },
                                      key: { "\($0.host)\u{0}\($0.inputs[i] ?? "")" }) {
                let view = views[ranks[0]]
                let why = view.inputs[i].map { "it has \($0) there, rank 0 on \(rootHost) sees \(expected)" }
                    ?? "it cannot be read there (rank 0 on \(rootHost) sees \(expected))"
                parts.append("input \(path) differs on host \(view.host) (\(rankList(ranks))): \(why)")
            }
        }
        guard !parts.isEmpty else { return nil }
        return parts.joined(separator: "; ") + "; " + advice
    }

    /// Ranks (indices of `views`) that match `condition`, grouped by `key` in order of first rank.
    static func grouped(_ views: [View], where condition: (View) -> Bool, key: (View) -> String) -> [(String, [Int])] {
        var order: [String] = []
        var ranks: [String: [Int]] = [:]
        for (rank, view) in views.enumerated() where condition(view) {
            let k = key(view)
            if ranks[k] == nil { order.append(k) }
            ranks[k, default: []].append(rank)
        }
        return order.map { ($0, ranks[$0]!) }
    }

    /// "rank 2", "ranks 2, 3", "ranks 4-19, 21" (runs of three or more as ranges).
    static func rankList(_ ranks: [Int]) -> String {
        var runs: [String] = []
        var i = 0
        while i < ranks.count {
            var j = i
            while j + 1 < ranks.count && ranks[j + 1] == ranks[j] + 1 { j += 1 }
            if j - i >= 2 {
                runs.append("\(ranks[i])-\(ranks[j])")
            } else {
                runs.append(contentsOf: ranks[i...j].map(String.init))
            }
            i = j + 1
        }
        return (ranks.count == 1 ? "rank " : "ranks ") + runs.joined(separator: ", ")
    }
}
