import Foundation
import SystemPackage
import TesseraFITS
import TesseraRun
import TesseraSupport

/// `tessera batch collate | link | archive`: one catalog per tile from its chunks, links to the
/// results in `RUN/output`, and the logs in one tarball.
public enum BatchCollate {
    /// Joins the chunk catalogs of every tile into `RUN/<tile>/<tile>-catalog.fits` (rows ordered
    /// by `row`, the 0-based MEDS object row). Refuses a tile with an incomplete chunk unless
    /// `allowIncomplete`, in which case the catalog holds the complete chunks and its header says
    /// so (INCOMPL = T, NMISSING = objects left out). Returns the catalogs written.
    public static func collate(run: String, allowIncomplete: Bool, log: (String) -> Void = { print($0) }) throws -> [String] {
        let layout = BatchLayout(run: run)
        let reports = try BatchStatus.check(run: run)
        let stateOf = Dictionary(uniqueKeysWithValues: reports.map { ($0.directory, $0.state) })
        var written: [String] = []
        let tiles = try BatchStatus.tiles(run: run)
        // All tiles are checked before any catalog is written.
        for tile in tiles where !allowIncomplete {
            let bad = tile.chunks.filter { stateOf[$0] != .complete }
            if !bad.isEmpty {
                throw BatchError(file: layout.path(tile.name), detail: "tile \(tile.name) is incomplete: \(bad.map { "\($0) (\(stateOf[$0]?.label ?? "not listed"))" }.joined(separator: ", ")); run `tessera batch verify`, resubmit, or collate with --allow-incomplete")
            }
        }
        for tile in tiles {
            let complete = tile.chunks.filter { stateOf[$0] == .complete }
            var tables: [[FITSColumn]] = []
            for dir in complete {
                let path = layout.path("\(dir)/\(BatchLayout.fitDirectory)/\(BatchLayout.chunkCatalog)")
                let f = try FITSFile(path: path)
                defer { try? f.close() }
                tables.append(try f.columns(hdu: 1).map { try f.readColumn($0.name, hdu: 1) })
            }
            guard !tables.isEmpty else { throw BatchError(file: layout.path(tile.name), detail: "tile \(tile.name) has no complete chunk to collate") }
            let joined = try join(tables, file: layout.path(tile.name))
            let rows = joined.first?.rowCount ?? 0
            let out = layout.path(BatchLayout.tileCatalog(tile: tile.name))
            try writeReplacing(out) { partial in
                let f = try FITSFile(creatingAt: partial, overwrite: true)
                try f.appendTable(joined, extname: "CATALOG")
                for (k, v) in [("TILE", tile.name), ("MEDSFILE", FilePath(tile.meds).lastComponent?.string ?? tile.meds)] {
                    try f.writeKeyword(k, .string(v), hdu: 0)
                }
                try f.writeKeyword("NCHUNK", .int(tile.chunks.count), comment: "chunks of the tile", hdu: 0)
                try f.writeKeyword("INCOMPL", .bool(complete.count < tile.chunks.count), comment: "some chunks missing", hdu: 0)
                try f.writeKeyword("NMISSING", .int(tile.objects - rows), comment: "objects of missing chunks", hdu: 0)
                try f.close()
            }
            log("batch collate: \(tile.name): \(rows) of \(tile.objects) objects from \(complete.count) of \(tile.chunks.count) chunks -> \(out)")
            written.append(out)
            // Sampling runs: the chunks' draws, joined in row order.
            let sampleFiles = complete.map { layout.path("\($0)/\(BatchLayout.fitDirectory)/\(BatchLayout.chunkSamples)") }
                .filter { FileManager.default.fileExists(atPath: $0) }
            if !sampleFiles.isEmpty {
                guard sampleFiles.count == complete.count else {
                    throw BatchError(file: layout.path(tile.name), detail: "\(complete.count - sampleFiles.count) complete chunk(s) have no \(BatchLayout.chunkSamples) while others do")
                }
                let samplesOut = layout.path(BatchLayout.tileSamples(tile: tile.name))
                let joinedSamples = try SampleFile.joined(try sampleFiles.map { try SampleFile.read($0) }, file: samplesOut)
                try joinedSamples.write(to: samplesOut)
                log("batch collate: \(tile.name): draws of \(joinedSamples.rows.count) objects -> \(samplesOut)")
                written.append(samplesOut)
            }
        }
        return written
    }

    /// Concatenates tables with the same columns and orders the rows by the `row` column.
    static func join(_ tables: [[FITSColumn]], file: String) throws -> [FITSColumn] {
        guard let first = tables.first else { return [] }
        let names = first.map(\.name)
        for t in tables.dropFirst() where t.map(\.name) != names {
            throw BatchError(file: file, detail: "chunk catalogs have different columns (\(names) vs \(t.map(\.name)))")
        }
        guard let rowIndex = names.firstIndex(of: "row") else {
            throw BatchError(file: file, detail: "chunk catalogs have no 'row' column")
        }
        var columns = first
        for t in tables.dropFirst() {
            for i in columns.indices { columns[i].data = try append(columns[i].data, t[i].data, column: names[i], file: file) }
        }
        guard case let .int64(rows) = columns[rowIndex].data else {
            throw BatchError(file: file, detail: "column 'row' must be 64-bit integers")
        }
        let order = rows.indices.sorted { rows[$0] < rows[$1] }
        if Set(rows).count != rows.count { throw BatchError(file: file, detail: "an object appears in two chunk catalogs") }
        for i in columns.indices { columns[i].data = permute(columns[i].data, order, column: names[i], file: file) }
        return columns
    }

    static func append(_ a: FITSColumnData, _ b: FITSColumnData, column: String, file: String) throws -> FITSColumnData {
        switch (a, b) {
        case let (.double(x), .double(y)): return .double(x + y)
        case let (.float(x), .float(y)): return .float(x + y)
        case let (.int32(x), .int32(y)): return .int32(x + y)
        case let (.int64(x), .int64(y)): return .int64(x + y)
        case let (.bool(x), .bool(y)): return .bool(x + y)
        case let (.string(x), .string(y)): return .string(x + y)
        case let (.doubleVector(x, w), .doubleVector(y, v)) where w == v: return .doubleVector(values: x + y, width: w)
        case let (.int16(x), .int16(y)): return .int16(x + y)
        case let (.int32Vector(x, w), .int32Vector(y, v)) where w == v: return .int32Vector(values: x + y, width: w)
        case let (.int64Vector(x, w), .int64Vector(y, v)) where w == v: return .int64Vector(values: x + y, width: w)
        default: throw BatchError(file: file, detail: "column '\(column)' has different types in two chunk catalogs")
        }
    }

    static func permute(_ d: FITSColumnData, _ order: [Int], column: String, file: String) -> FITSColumnData {
        switch d {
        case let .double(x): return .double(order.map { x[$0] })
        case let .float(x): return .float(order.map { x[$0] })
        case let .int32(x): return .int32(order.map { x[$0] })
        case let .int64(x): return .int64(order.map { x[$0] })
        case let .bool(x): return .bool(order.map { x[$0] })
        case let .string(x): return .string(order.map { x[$0] })
        case let .doubleVector(x, w): return .doubleVector(values: order.flatMap { x[($0 * w)..<(($0 + 1) * w)] }, width: w)
        case let .int16(x): return .int16(order.map { x[$0] })
        case let .int32Vector(x, w): return .int32Vector(values: order.flatMap { x[($0 * w)..<(($0 + 1) * w)] }, width: w)
        case let .int64Vector(x, w): return .int64Vector(values: order.flatMap { x[($0 * w)..<(($0 + 1) * w)] }, width: w)
        }
    }

    /// `RUN/output/<tile>-catalog.fits`: relative symbolic links to every collated catalog, so the
    /// results of a run are in one place (and stay linked when RUN moves).
    public static func link(run: String, log: (String) -> Void = { print($0) }) throws -> [String] {
        let layout = BatchLayout(run: run)
        let output = layout.path(BatchLayout.outputDirectory)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var linked: [String] = []
        for tile in try BatchStatus.tiles(run: run) {
            let relative = BatchLayout.tileCatalog(tile: tile.name)
            guard FileManager.default.fileExists(atPath: layout.path(relative)) else {
                throw BatchError(file: layout.path(relative), detail: "tile \(tile.name) is not collated; run `tessera batch collate` first")
            }
            let name = FilePath(relative).lastComponent!.string
            let link = output + "/" + name
            try? FileManager.default.removeItem(atPath: link)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../" + relative)
            linked.append(link)
        }
        log("batch link: \(linked.count) catalogs in \(output)")
        return linked
    }

    /// `RUN/logs.tar.gz`: the `logs` folder and every chunk's job logs, with paths relative to RUN.
    public static func archive(run: String, log: (String) -> Void = { print($0) }) throws -> String {
        let layout = BatchLayout(run: run)
        var members: [String] = []
        if FileManager.default.fileExists(atPath: layout.path(BatchLayout.logsDirectory)) { members.append(BatchLayout.logsDirectory) }
        for dir in try BatchStatus.chunkList(run: run) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.path(dir))) ?? []
            members += names.filter { $0.hasSuffix(".log") }.sorted().map { "\(dir)/\($0)" }
        }
        guard !members.isEmpty else { throw BatchError(file: run, detail: "no logs to archive") }
        let out = layout.path(BatchLayout.archiveFile)
        let (status, output) = try BatchSubmit.runProcess("/usr/bin/env", ["tar", "-czf", out, "-C", run] + members, logFile: nil)
        guard status == 0 else { throw BatchError(file: out, detail: "tar exited with status \(status): \(output)") }
        log("batch archive: \(members.count) log entries -> \(out)")
        return out
    }
}
