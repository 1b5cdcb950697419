import CSV
import Foundation
import TesseraSupport

/// Comma-separated tables (RFC 4180) as the runs write them (`truth.csv`, `summary.csv`,
/// `ensemble.csv`, the scene `postprocess/summary.csv`, …), through CSV.swift.
///
/// Why a package rather than `joined(separator: ",")`: a field holding a comma, a double quote or
/// a line break (an id, a label, a path) must be quoted, with its quotes doubled, or it silently
/// shifts every later column. Fields without those characters are written as they are, so an
/// ordinary table is byte for byte what joining with commas gives: one line per row, `\n` line
/// ends, a final `\n`. The caller formats numbers (Tessera writes Swift's shortest round-trip
/// form, `"\(x)"`, and an empty field for a missing value).
public enum CSVText {
    /// The text of `rows`, the header being the first row. A row of one empty field is written
    /// as `""`, so that it stays a row when read back rather than becoming a blank line.
    public static func render(_ rows: [[String]]) throws -> String {
        guard !rows.isEmpty else { return "" }
        let stream = OutputStream(toMemory: ())
        let writer = try CSVWriter(stream: stream, delimiter: ",", newline: .lf)
        for row in rows {
            let loneEmptyField = row == [""]
            try writer.write(row: row, quotedAtIndex: { _ in loneEmptyField })
        }
        // CSVWriter puts the line break before every row but the first; RFC 4180 files and the
        // files Tessera has always written end with one.
        guard let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
            throw CSVError.cannotWriteStream
        }
        stream.close()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Write `rows` (header first) to `path`, replacing any file there atomically.
    public static func write(_ rows: [[String]], to path: String) throws {
        let text = try render(rows)
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw FileError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    /// The rows of RFC 4180 text (quoted fields unquoted, `""` inside them made `"`), header
    /// first; `\n` and `\r\n` line ends.
    public static func parse(_ text: String) throws -> [[String]] {
        let reader = try CSVReader(string: text)
        var rows: [[String]] = []
        while let row = reader.next() { rows.append(row) }
        if let error = reader.error { throw error }
        return rows
    }
}
