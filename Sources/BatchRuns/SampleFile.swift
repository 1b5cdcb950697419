import Foundation
import TesseraHDF5
import TesseraSupport

/// The per-object posterior draws of a sampling batch run (`fitter: nuts`), one HDF5 file per
/// chunk (`fit/samples.h5`) and, after `collate`, per tile (`<tile>-samples.h5`):
///
///     /row      int64 [objects]                      0-based MEDS row, ascending
///     /columns  strings [parameters]                 catalog column of each parameter
///     /draws    float64 [objects, draws, parameters] ra, dec in degrees, the rest in catalog units
///
/// An object without draws (its fit failed; see `flags` in the catalog) has NaN draws.
public struct SampleFile: Sendable, Equatable {
    public var rows: [Int64]
    public var columns: [String]
    public var drawCount: Int
    /// rows.count × drawCount × columns.count values.
    public var draws: [Double]

    public init(rows: [Int64], columns: [String], drawCount: Int, draws: [Double]) {
        self.rows = rows; self.columns = columns; self.drawCount = drawCount; self.draws = draws
    }

    public func write(to path: String) throws {
        try writeReplacing(path) { partial in
            let f = try HDF5File.create(partial)
            try f.write(rows, to: "/row")
            try f.writeStrings(columns, to: "/columns")
            try f.write(draws, shape: [rows.count, drawCount, columns.count], to: "/draws")
            try f.close()
        }
    }

    public static func read(_ path: String) throws -> SampleFile {
        let f = try HDF5File.open(path)
        defer { try? f.close() }
        let rows = try f.read(Int64.self, from: "/row").values
        let columns = try f.readStrings(from: "/columns")
        let draws = try f.read(Double.self, from: "/draws")
        guard draws.shape.count == 3, draws.shape[0] == rows.count, draws.shape[2] == columns.count else {
            throw BatchError(file: path, detail: "/draws has shape \(draws.shape), expected [\(rows.count), draws, \(columns.count)]")
        }
        return SampleFile(rows: rows, columns: columns, drawCount: draws.shape[1], draws: draws.values)
    }

    /// The chunks' files joined and ordered by row (all must have the same columns and draw count).
    public static func joined(_ parts: [SampleFile], file: String) throws -> SampleFile {
        guard let first = parts.first else { throw BatchError(file: file, detail: "no sample files to join") }
        for p in parts where p.columns != first.columns || p.drawCount != first.drawCount {
            throw BatchError(file: file, detail: "chunk sample files differ in columns or draw count")
        }
        let per = first.drawCount * first.columns.count
        var entries: [(Int64, ArraySlice<Double>)] = []
        for p in parts { for (i, r) in p.rows.enumerated() { entries.append((r, p.draws[(i * per)..<((i + 1) * per)])) } }
        entries.sort { $0.0 < $1.0 }
        return SampleFile(rows: entries.map(\.0), columns: first.columns, drawCount: first.drawCount,
                          draws: entries.flatMap { Array($0.1) })
    }
}
