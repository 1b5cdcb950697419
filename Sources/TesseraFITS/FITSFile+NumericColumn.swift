import CFITSIO

/// One numeric table column read with conversion: `rows × width` values, row-major.
///
/// Why a separate, converting read: survey formats (MEDS among them) fix a column's *meaning*
/// but different writers store it as different widths (`box_size` as `J` or `K`, Jacobians as `E`
/// or `D`). Integers are widened to `Int64` and reals to `Double` exactly; a real column is never
/// read as integers, nor an integer column as reals, so a schema mix-up still fails loudly.
public struct FITSNumericColumn<Element: Sendable & Equatable>: Sendable, Equatable {
    public let name: String
    /// Row-major values: row r is `values[r * width ..< (r + 1) * width]`.
    public let values: [Element]
    /// Values per row (the TFORM repeat count; 1 for a scalar column).
    public let width: Int

    public var rowCount: Int { width > 0 ? values.count / width : 0 }

    /// Value `element` of row `row` (both 0-based).
    public subscript(row: Int, element: Int) -> Element { values[row * width + element] }
}

extension FITSFile {
    /// Reads integer column `name` (TFORM `B`, `I`, `J` or `K`, scalar or vector) as `Int64`.
    /// - Throws: `.missingColumn`; `.wrongColumnType` (naming the TFORM) for non-integer columns;
    ///   `.truncated` if the file ends inside the table.
    public func readIntegerColumn(_ name: String, hdu: Int? = nil) throws -> FITSNumericColumn<Int64> {
        try readConverted(name, hdu: hdu, accepted: [TBYTE, TSHORT, TINT, TLONG, TLONGLONG], as: TLONGLONG,
                          zero: Int64(0), kind: "integer")
    }

    /// Reads real column `name` (TFORM `E` or `D`, scalar or vector) as `Double`.
    /// - Throws: `.missingColumn`; `.wrongColumnType` (naming the TFORM) for non-real columns;
    ///   `.truncated` if the file ends inside the table.
    public func readRealColumn(_ name: String, hdu: Int? = nil) throws -> FITSNumericColumn<Double> {
        try readConverted(name, hdu: hdu, accepted: [TFLOAT, TDOUBLE], as: TDOUBLE, zero: 0.0, kind: "real")
    }

    /// Whether the table in HDU `hdu` has a column called `name` (case-insensitive).
    public func hasColumn(_ name: String, hdu: Int? = nil) throws -> Bool {
        try columnNames(hdu: hdu).contains { $0.uppercased() == name.uppercased() }
    }

    private func readConverted<T: Sendable & Equatable>(_ name: String, hdu: Int?, accepted: [Int32], as datatype: Int32,
                                                        zero: T, kind: String) throws -> FITSNumericColumn<T> {
        try withHandle(hdu: hdu) { fptr in
            let index = try requireTable(fptr)
            let (number, info) = try findColumn(fptr, name: name, hdu: index)
            guard accepted.contains(info.typecode) else {
                throw FITSError(reason: .wrongColumnType, path: path, hdu: index, column: info.name,
                                detail: "expected an \(kind) column, but its TFORM is '\(info.tform)'")
            }
            var status: Int32 = 0
            var rows: Int64 = 0
            ffgnrwll(fptr, &rows, &status)
            try check(status, hdu: index, column: info.name, "cannot read the number of rows")
            let width = max(info.repeatCount, 1)
            let count = Int(rows) * width
            var values = [T](repeating: zero, count: count)
            if count > 0 {
                var anyNull: Int32 = 0
                values.withUnsafeMutableBufferPointer { buffer in
                    _ = ffgcv(fptr, datatype, number, 1, 1, Int64(count), nil, buffer.baseAddress, &anyNull, &status)
                }
            }
            let reason = Self.readFailureReason(status)
            try check(status, hdu: index, column: info.name,
                      "cannot read column data" + (reason == .truncated ? ": the file ends inside the table (truncated)" : ""),
                      reason: reason)
            return FITSNumericColumn(name: info.name, values: values, width: width)
        }
    }
}
