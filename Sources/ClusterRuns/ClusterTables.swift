import Foundation
import TesseraFITS
import TesseraRun
import TesseraSupport

/// A small comma-separated table with a header line (the runs' `summary.csv`, `bins.csv`), read
/// as RFC 4180 (quoted fields may hold commas, quotes and line breaks), the way `CSVText` writes
/// it. Blank lines are skipped and fields trimmed of spaces. Errors name the file, record and column.
public struct CSVTable: Sendable {
    public let path: String
    public let header: [String]
    public let rows: [[String]]

    public static func read(_ path: String) throws -> CSVTable {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ClusterRunError(file: path, message: "cannot read: \(error.localizedDescription)")
        }
        let records: [[String]]
        do { records = try CSVText.parse(text) } catch {
            throw ClusterRunError(file: path, message: "not CSV text: \(error)")
        }
        let lines = records.map { $0.map { $0.trimmingCharacters(in: .whitespaces) } }.filter { $0 != [""] }
        guard let header = lines.first else { throw ClusterRunError(file: path, message: "empty table (no header line)") }
        var rows: [[String]] = []
        for (n, fields) in lines.dropFirst().enumerated() {
            guard fields.count == header.count else {
                throw ClusterRunError(file: path, message: "line \(n + 2) has \(fields.count) fields, the header has \(header.count)")
            }
            rows.append(fields)
        }
        return CSVTable(path: path, header: header, rows: rows)
    }

    public func index(of column: String) throws -> Int {
        guard let i = header.firstIndex(of: column) else {
            throw ClusterRunError(file: path, message: "no column '\(column)' (columns: \(header.joined(separator: ", ")))")
        }
        return i
    }

    public func strings(_ column: String) throws -> [String] {
        let i = try index(of: column)
        return rows.map { $0[i] }
    }

    /// A numeric column; an empty field is NaN (e.g. a halo without a true mass).
    public func doubles(_ column: String) throws -> [Double] {
        let i = try index(of: column)
        return try rows.enumerated().map { n, row in
            if row[i].isEmpty { return .nan }
            guard let v = Double(row[i]) else {
                throw ClusterRunError(file: path, message: "line \(n + 2), column '\(column)': '\(row[i])' is not a number")
            }
            return v
        }
    }
}

/// A problem with a cluster run's files; names the file.
public struct ClusterRunError: Error, CustomStringConvertible {
    public let file: String
    public let message: String
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): \(message)" }
}

/// One BINTABLE HDU to write: columns, EXTNAME and header keywords.
struct FITSTableHDU {
    var extname: String
    var columns: [FITSColumn]
    var keywords: [(String, FITSHeaderValue, String)] = []
}

enum ClusterTables {
    /// Write FITS tables atomically: a temporary file, then a rename.
    static func writeFITS(_ hdus: [FITSTableHDU], to path: String) throws {
        try writeReplacing(path) { partial in
            let file = try FITSFile(creatingAt: partial, overwrite: true)
            for hdu in hdus {
                let index = try file.appendTable(hdu.columns, extname: hdu.extname)
                for (key, value, comment) in hdu.keywords { try file.writeKeyword(key, value, comment: comment, hdu: index) }
            }
            try file.close()
        }
    }

    /// Write a CSV file (header row first) atomically, quoting fields as RFC 4180 asks.
    static func writeCSV(_ rows: [[String]], to path: String) throws {
        try CSVText.write(rows, to: path)
    }

    /// Write a plain list, one entry a line (`bin-<label>.txt`), atomically.
    static func writeLines(_ lines: [String], to path: String) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A number as CSV text: shortest round-trip form, empty for NaN.
    static func field(_ x: Double) -> String { x.isNaN ? "" : "\(x)" }
}
