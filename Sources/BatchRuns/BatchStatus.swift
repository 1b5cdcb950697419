import Foundation
import TesseraFITS
import TesseraRun

/// `tessera batch verify`: which chunks are complete, which never ran, which failed and which
/// stopped part-way, and the list of chunks to submit again.
public enum BatchStatus {
    /// The state of one chunk, from its run directory (`fit/`): metadata status and catalog rows.
    public enum ChunkState: Sendable, Equatable {
        case complete
        /// Never started: no `fit/metadata.json`.
        case missing
        /// The run recorded an error.
        case failed(String)
        /// Stopped (killed, or still running) or finished without a full catalog.
        case incomplete(String)

        public var label: String {
            switch self {
            case .complete: return "complete"
            case .missing: return "missing"
            case .failed: return "failed"
            case .incomplete: return "incomplete"
            }
        }
    }

    public struct ChunkReport: Sendable, Equatable {
        /// Array index (line of chunks.txt, 0-based).
        public var index: Int
        public var directory: String
        public var state: ChunkState
    }

    /// Every chunk's state, in array order.
    public static func check(run: String) throws -> [ChunkReport] {
        let layout = BatchLayout(run: run)
        let chunks = try chunkList(run: run)
        return try chunks.enumerated().map { i, dir in
            ChunkReport(index: i, directory: dir, state: try state(of: layout.path(dir)))
        }
    }

    /// RUN's chunk directories (RUN-relative), in array order.
    public static func chunkList(run: String) throws -> [String] {
        let path = BatchLayout(run: run).path(BatchLayout.chunkListFile)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw BatchError(file: path, detail: "not a batch run directory (no \(BatchLayout.chunkListFile); run `tessera batch setup` first)")
        }
        return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// The tiles of RUN (`tiles.json`).
    public static func tiles(run: String) throws -> [TileRecord] {
        let path = BatchLayout(run: run).path(BatchLayout.tilesFile)
        do {
            return try JSONDecoder().decode([TileRecord].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw BatchError(file: path, detail: "cannot read the tile list: \(error)")
        }
    }

    /// The manifest of the chunk in `directory` (absolute).
    public static func manifest(_ directory: String) throws -> ChunkManifest {
        try ConfigLoader.load(ChunkManifest.self, from: directory + "/" + BatchLayout.manifestFile)
    }

    static func state(of chunk: String) throws -> ChunkState {
        let fit = chunk + "/" + BatchLayout.fitDirectory
        let metadataPath = fit + "/" + RunDirectory.metadataFile
        guard FileManager.default.fileExists(atPath: metadataPath) else { return .missing }
        let metadata: RunMetadata
        do {
            metadata = try JSONDecoder().decode(RunMetadata.self, from: Data(contentsOf: URL(fileURLWithPath: metadataPath)))
        } catch {
            return .incomplete("\(metadataPath) cannot be read (\(error))")
        }
        switch metadata.status {
        case .failed: return .failed(metadata.error ?? "failed (no message recorded)")
        case .running:
            let done = (try? FileManager.default.contentsOfDirectory(atPath: fit + "/" + ChunkRunner.groupsDirectory))?
                .filter { $0.hasSuffix(".json") }.count ?? 0
            return .incomplete("stopped while running (killed, or still running) after \(done) groups; it resumes where it stopped")
        case .finished:
            let expected = try manifest(chunk).objects.count
            let catalog = fit + "/" + BatchLayout.chunkCatalog
            guard FileManager.default.fileExists(atPath: catalog) else { return .incomplete("finished but \(catalog) is missing") }
            let rows: Int
            do {
                let f = try FITSFile(path: catalog)
                defer { try? f.close() }
                rows = try f.rowCount(hdu: 1)
            } catch {
                return .incomplete("\(catalog) cannot be read (\(error))")
            }
            return rows == expected ? .complete : .incomplete("\(catalog) has \(rows) rows, the chunk \(expected) objects")
        }
    }

    /// Writes `RUN/resubmit.txt` (array indices of every chunk not complete, one per line; empty
    /// when all are) and returns the text `verify` prints.
    @discardableResult
    public static func writeResubmitList(_ reports: [ChunkReport], run: String) throws -> String {
        let redo = reports.filter { $0.state != .complete }
        let path = BatchLayout(run: run).path(BatchLayout.resubmitFile)
        try (redo.map { "\($0.index)\n" }.joined()).write(toFile: path, atomically: true, encoding: .utf8)
        var lines: [String] = []
        for r in redo {
            switch r.state {
            case .missing: lines.append("missing     \(r.directory) (task \(r.index)): never ran")
            case let .failed(m): lines.append("failed      \(r.directory) (task \(r.index)): \(m)")
            case let .incomplete(m): lines.append("incomplete  \(r.directory) (task \(r.index)): \(m)")
            case .complete: break
            }
        }
        let complete = reports.count - redo.count
        lines.append("batch verify: \(complete) of \(reports.count) chunks complete"
                     + (redo.isEmpty ? "" : "; \(redo.count) to resubmit, listed in \(path) (tessera batch run \(run) --resubmit)"))
        return lines.joined(separator: "\n")
    }
}
