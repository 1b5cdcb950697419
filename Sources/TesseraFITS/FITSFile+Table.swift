import CFITSIO

/// Writing and reading binary tables (BINTABLE extensions).
extension FITSFile {
    /// Moves to the file's last HDU so that the next HDU created is appended after it, first
    /// writing the empty primary HDU that an empty file needs (a table or a compressed image
    /// cannot be the primary). Returns the 0-based index the appended HDU will have.
    func moveToAppend(_ fptr: UnsafeMutablePointer<fitsfile>) throws -> Int {
        var status: Int32 = 0
        var count: Int32 = 0
        ffthdu(fptr, &count, &status)
        try check(status, hdu: nil, "cannot count HDUs")
        if count == 0 {
            ffcrim(fptr, 8, 0, nil, &status)
            try check(status, hdu: 0, "cannot create the empty primary HDU")
            return 1
        }
        ffmahd(fptr, count, nil, &status)
        try check(status, hdu: Int(count) - 1, "cannot move to the last HDU")
        return Int(count)
    }

    /// Appends a BINTABLE HDU holding `columns` (in order) and returns its 0-based index.
    ///
    /// A file without HDUs first gets an empty primary HDU (FITS tables cannot be primary).
    /// TFORMs: Double `1D`, Float `1E`, Int32 `1J`, Int64 `1K`, Bool `1L`, String `wA` with w the
    /// longest string's length (at least 1), vector `kD`. Units are written as TUNITn.
    ///
    /// - Throws: `.invalidArgument` if there are no columns, names are empty, duplicated
    ///   (case-insensitively) or not printable ASCII, columns have different row counts, or a
    ///   string is not printable ASCII.
    @discardableResult
    public func appendTable(_ columns: [FITSColumn], extname: String? = nil) throws -> Int {
        try requireWritable()
        try validateTable(columns, extname: extname)
        let rows = columns[0].rowCount
        let tforms = columns.map(Self.tform)

        return try withHandle(hdu: nil) { fptr -> Int in
            var status: Int32 = 0
            let index = try moveToAppend(fptr)
            CFITSIOCall.withCStringArray(columns.map(\.name)) { names in
                CFITSIOCall.withCStringArray(tforms) { forms in
                    CFITSIOCall.withCStringArray(columns.map { $0.unit ?? "" }) { units in
                        _ = ffcrtb(fptr, BINARY_TBL, Int64(rows), Int32(columns.count), names, forms, units,
                                   extname, &status)
                    }
                }
            }
            try check(status, hdu: index, "cannot create binary table with TFORMs \(tforms)")
            guard rows > 0 else { return index }
            for (offset, column) in columns.enumerated() {
                try writeColumn(column, number: Int32(offset + 1), fptr: fptr, hdu: index)
            }
            return index
        }
    }

    /// Number of rows of the table in HDU `hdu` (0-based; nil = current).
    public func rowCount(hdu: Int? = nil) throws -> Int {
        try withHandle(hdu: hdu) { fptr in
            let index = try requireTable(fptr)
            var rows: Int64 = 0
            var status: Int32 = 0
            ffgnrwll(fptr, &rows, &status)
            try check(status, hdu: index, "cannot read the number of rows")
            return Int(rows)
        }
    }

    /// Column names (TTYPEn) of the table in HDU `hdu`, in column order.
    public func columnNames(hdu: Int? = nil) throws -> [String] {
        try columns(hdu: hdu).map(\.name)
    }

    /// Name, unit, type and TFORM of every column of the table in HDU `hdu`.
    public func columns(hdu: Int? = nil) throws -> [FITSColumnInfo] {
        try withHandle(hdu: hdu) { fptr in
            let index = try requireTable(fptr)
            var status: Int32 = 0
            var count: Int32 = 0
            ffgncl(fptr, &count, &status)
            try check(status, hdu: index, "cannot read the number of columns")
            return try (0..<Int(count)).map { try columnInfo(fptr, number: Int32($0 + 1), hdu: index) }
        }
    }

    /// Reads column `name` (exact match first, else case-insensitive) of the table in HDU `hdu`
    /// with the type it is stored as.
    ///
    /// - Throws: `.missingColumn` if there is no such column, `.wrongColumnType` if its TFORM is
    ///   not one Tessera supports, `.truncated` if the file ends inside the table.
    public func readColumn(_ name: String, hdu: Int? = nil) throws -> FITSColumn {
        try withHandle(hdu: hdu) { fptr in
            let index = try requireTable(fptr)
            let (number, info) = try findColumn(fptr, name: name, hdu: index)
            guard let type = info.type else {
                throw FITSError(reason: .wrongColumnType, path: path, hdu: index, column: info.name,
                                detail: "column has TFORM '\(info.tform)', which Tessera does not read")
            }
            return FITSColumn(name: info.name,
                              data: try readData(fptr, number: number, type: type, info: info, hdu: index),
                              unit: info.unit)
        }
    }

    /// Reads scalar column `name` as `[Element]`.
    ///
    /// Types must match exactly (e.g. a `1E` column is not read as `Double`), so that a schema
    /// mismatch is reported instead of silently converted.
    /// - Throws: `.missingColumn`, or `.wrongColumnType` naming the stored TFORM.
    public func readColumn<Element: FITSColumnElement>(_ name: String, as _: Element.Type,
                                                       hdu: Int? = nil) throws -> [Element] {
        try withHandle(hdu: hdu) { fptr in
            let index = try requireTable(fptr)
            let (number, info) = try findColumn(fptr, name: name, hdu: index)
            guard info.type == Element.fitsColumnType else {
                throw FITSError(reason: .wrongColumnType, path: path, hdu: index, column: info.name,
                                detail: "requested \(Element.self) (\(Element.fitsColumnType.rawValue)), but the column is "
                                    + "\(info.type?.rawValue ?? "unsupported") with TFORM '\(info.tform)'")
            }
            let data = try readData(fptr, number: number, type: Element.fitsColumnType, info: info, hdu: index)
            return Element.values(from: data)!
        }
    }

    /// Reads vector column `name` (TFORM `kD`) as one `[Double]` of length k per row.
    /// A scalar `1D` column is accepted (k = 1).
    /// - Throws: `.missingColumn`, or `.wrongColumnType` if the column is not of reals.
    public func readVectorColumn(_ name: String, hdu: Int? = nil) throws -> [[Double]] {
        try withHandle(hdu: hdu) { fptr in
            let index = try requireTable(fptr)
            let (number, info) = try findColumn(fptr, name: name, hdu: index)
            guard info.type == .doubleVector || info.type == .double else {
                throw FITSError(reason: .wrongColumnType, path: path, hdu: index, column: info.name,
                                detail: "requested a vector of Double, but the column is "
                                    + "\(info.type?.rawValue ?? "unsupported") with TFORM '\(info.tform)'")
            }
            let data = try readData(fptr, number: number, type: .doubleVector, info: info, hdu: index)
            guard case let .doubleVector(values, width) = data else { return [] }
            return stride(from: 0, to: values.count, by: width).map { Array(values[$0..<($0 + width)]) }
        }
    }

    // MARK: Internals

    private static func tform(_ column: FITSColumn) -> String {
        switch column.data {
        case .double: return "1D"
        case .float: return "1E"
        case .int32: return "1J"
        case .int64: return "1K"
        case .bool: return "1L"
        case let .string(values): return "\(max(1, values.map(\.utf8.count).max() ?? 1))A"
        case let .doubleVector(_, width): return "\(width)D"
        case .int16: return "1I"
        case let .int32Vector(_, width): return "\(width)J"
        case let .int64Vector(_, width): return "\(width)K"
        }
    }

    private func validateTable(_ columns: [FITSColumn], extname: String?) throws {
        guard let first = columns.first else {
            throw FITSError(reason: .invalidArgument, path: path, detail: "a table needs at least one column")
        }
        if let extname { try validateStringValue(extname, keyword: "EXTNAME", hdu: nil) }
        var seen = Set<String>()
        for column in columns {
            guard !column.name.isEmpty else {
                throw FITSError(reason: .invalidArgument, path: path, column: column.name,
                                detail: "column names must not be empty")
            }
            try validateASCII(column.name, what: "column name", keyword: nil, hdu: nil, column: column.name)
            if let unit = column.unit {
                try validateASCII(unit, what: "unit", keyword: nil, hdu: nil, column: column.name)
            }
            guard seen.insert(column.name.uppercased()).inserted else {
                throw FITSError(reason: .invalidArgument, path: path, column: column.name,
                                detail: "duplicate column name (FITS column names are case-insensitive)")
            }
            guard column.rowCount == first.rowCount else {
                throw FITSError(reason: .invalidArgument, path: path, column: column.name,
                                detail: "column has \(column.rowCount) rows but column '\(first.name)' has \(first.rowCount)")
            }
            switch column.data {
            case let .string(values):
                for value in values {
                    try validateASCII(value, what: "string cell", keyword: nil, hdu: nil, column: column.name)
                }
            case let .doubleVector(values, width):
                try validateVector(count: values.count, width: width, column: column.name)
            case let .int32Vector(values, width):
                try validateVector(count: values.count, width: width, column: column.name)
            case let .int64Vector(values, width):
                try validateVector(count: values.count, width: width, column: column.name)
            default:
                break
            }
        }
    }

    private func validateVector(count: Int, width: Int, column: String) throws {
                guard width >= 1, count % width == 0 else {
                    throw FITSError(reason: .invalidArgument, path: path, column: column,
                                    detail: "vector column needs width ≥ 1 and a whole number of rows")
                }
    }

    private func writeColumn(_ column: FITSColumn, number: Int32, fptr: UnsafeMutablePointer<fitsfile>,
                             hdu: Int) throws {
        var status: Int32 = 0
        // CFITSIO declares the input arrays `void *` but only reads them.
        func put<T>(_ values: [T], _ datatype: Int32) {
            values.withUnsafeBufferPointer { buffer in
                _ = ffpcl(fptr, datatype, number, 1, 1, Int64(buffer.count),
                          UnsafeMutableRawPointer(mutating: UnsafeRawPointer(buffer.baseAddress)), &status)
            }
        }
        switch column.data {
        case let .double(values): put(values, TDOUBLE)
        case let .float(values): put(values, TFLOAT)
        case let .int32(values): put(values, TINT)
        case let .int64(values): put(values, TLONGLONG)
        case let .bool(values): put(values.map { CChar($0 ? 1 : 0) }, TLOGICAL)
        case let .doubleVector(values, _): put(values, TDOUBLE)
        case let .int16(values): put(values, TSHORT)
        case let .int32Vector(values, _): put(values, TINT)
        case let .int64Vector(values, _): put(values, TLONGLONG)
        case let .string(values):
            CFITSIOCall.withCStringArray(values) { strings in
                _ = ffpcl(fptr, TSTRING, number, 1, 1, Int64(values.count), strings, &status)
            }
        }
        try check(status, hdu: hdu, column: column.name, "cannot write column data")
    }

    /// Ensures the current HDU is a table; returns its 0-based index.
    func requireTable(_ fptr: UnsafeMutablePointer<fitsfile>) throws -> Int {
        let index = currentIndex(fptr)
        var type: Int32 = 0
        var status: Int32 = 0
        ffghdt(fptr, &type, &status)
        try check(status, hdu: index, "cannot read HDU type")
        guard type == BINARY_TBL || type == ASCII_TBL else {
            throw FITSError(reason: .wrongHDUType, path: path, hdu: index,
                            detail: "HDU is an image, not a table")
        }
        return index
    }

    private func columnInfo(_ fptr: UnsafeMutablePointer<fitsfile>, number: Int32, hdu: Int) throws -> FITSColumnInfo {
        let name = keywordString(fptr, "TTYPE\(number)") ?? ""
        let unit = keywordString(fptr, "TUNIT\(number)").flatMap { $0.isEmpty ? nil : $0 }
        let tform = keywordString(fptr, "TFORM\(number)") ?? ""
        var typecode: Int32 = 0
        var repeatCount: Int64 = 0
        var width: Int64 = 0
        var status: Int32 = 0
        ffgtclll(fptr, number, &typecode, &repeatCount, &width, &status)
        try check(status, hdu: hdu, column: name, "cannot read the type of column \(number)")
        let type: FITSColumnType?
        switch typecode {
        case TDOUBLE: type = repeatCount == 1 ? .double : .doubleVector
        case TFLOAT: type = repeatCount == 1 ? .float : nil
        case TLONG, TINT: type = repeatCount == 1 ? .int32 : .int32Vector
        case TLONGLONG: type = repeatCount == 1 ? .int64 : .int64Vector
        case TSHORT: type = repeatCount == 1 ? .int16 : nil
        case TLOGICAL: type = repeatCount == 1 ? .bool : nil
        case TSTRING: type = repeatCount == width ? .string : nil
        default: type = nil
        }
        return FITSColumnInfo(name: name, unit: unit, type: type, tform: tform, repeatCount: Int(repeatCount),
                              typecode: typecode)
    }

    func findColumn(_ fptr: UnsafeMutablePointer<fitsfile>, name: String,
                            hdu: Int) throws -> (Int32, FITSColumnInfo) {
        var status: Int32 = 0
        var count: Int32 = 0
        ffgncl(fptr, &count, &status)
        try check(status, hdu: hdu, column: name, "cannot read the number of columns")
        let infos = try (0..<Int(count)).map { try columnInfo(fptr, number: Int32($0 + 1), hdu: hdu) }
        let match = infos.firstIndex { $0.name == name }
            ?? infos.firstIndex { $0.name.uppercased() == name.uppercased() }
        guard let match else {
            throw FITSError(reason: .missingColumn, path: path, hdu: hdu, column: name,
                            detail: "no such column (columns: \(infos.map(\.name).joined(separator: ", ")))")
        }
        return (Int32(match + 1), infos[match])
    }

    private func readData(_ fptr: UnsafeMutablePointer<fitsfile>, number: Int32, type: FITSColumnType,
                          info: FITSColumnInfo, hdu: Int) throws -> FITSColumnData {
        var status: Int32 = 0
        var rows: Int64 = 0
        ffgnrwll(fptr, &rows, &status)
        try check(status, hdu: hdu, column: info.name, "cannot read the number of rows")
        let rowCount = Int(rows)
        func get<T>(_ datatype: Int32, _ zero: T, perRow: Int = 1) -> [T] {
            let count = rowCount * perRow
            var values = [T](repeating: zero, count: count)
            guard count > 0 else { return values }
            var anyNull: Int32 = 0
            values.withUnsafeMutableBufferPointer { buffer in
                _ = ffgcv(fptr, datatype, number, 1, 1, Int64(count), nil, buffer.baseAddress, &anyNull, &status)
            }
            return values
        }
        let data: FITSColumnData
        switch type {
        case .double: data = .double(get(TDOUBLE, 0.0))
        case .float: data = .float(get(TFLOAT, Float(0)))
        case .int32: data = .int32(get(TINT, Int32(0)))
        case .int64: data = .int64(get(TLONGLONG, Int64(0)))
        case .bool: data = .bool(get(TLOGICAL, CChar(0)).map { $0 != 0 })
        case .doubleVector:
            let width = max(info.repeatCount, 1)
            data = .doubleVector(values: get(TDOUBLE, 0.0, perRow: width), width: width)
        case .int16: data = .int16(get(TSHORT, Int16(0)))
        case .int32Vector:
            let width = max(info.repeatCount, 1)
            data = .int32Vector(values: get(TINT, Int32(0), perRow: width), width: width)
        case .int64Vector:
            let width = max(info.repeatCount, 1)
            data = .int64Vector(values: get(TLONGLONG, Int64(0), perRow: width), width: width)
        case .string:
            data = .string(readStrings(fptr, number: number, rows: rowCount, width: info.repeatCount, status: &status))
        }
        let reason = Self.readFailureReason(status)
        try check(status, hdu: hdu, column: info.name,
                  "cannot read column data" + (reason == .truncated ? ": the file ends inside the table (truncated)" : ""),
                  reason: reason)
        return data
    }

    private func readStrings(_ fptr: UnsafeMutablePointer<fitsfile>, number: Int32, rows: Int, width: Int,
                             status: inout Int32) -> [String] {
        guard rows > 0 else { return [] }
        let stride = width + 1
        var storage = [CChar](repeating: 0, count: rows * stride)
        var emptyNull: [CChar] = [0]
        var anyNull: Int32 = 0
        storage.withUnsafeMutableBufferPointer { buffer in
            var pointers: [UnsafeMutablePointer<CChar>?] = (0..<rows).map { buffer.baseAddress! + $0 * stride }
            _ = ffgcv(fptr, TSTRING, number, 1, 1, Int64(rows), &emptyNull, &pointers, &anyNull, &status)
        }
        // Trailing blanks are not significant in FITS strings (CFITSIO returns " " for an empty one).
        return (0..<rows).map { row in
            var text = CFITSIOCall.string(fromCBuffer: Array(storage[(row * stride)..<((row + 1) * stride)]))
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
    }

    /// String value of a keyword in the current HDU, nil if absent.
    private func keywordString(_ fptr: UnsafeMutablePointer<fitsfile>, _ key: String) -> String? {
        var value = CFITSIOCall.buffer(FLEN_VALUE)
        var status: Int32 = 0
        ffgkys(fptr, key, &value, nil, &status)
        if status != 0 {
            _ = CFITSIOCall.drainMessages()
            return nil
        }
        return CFITSIOCall.string(fromCBuffer: value)
    }
}
