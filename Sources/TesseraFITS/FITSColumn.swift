/// The element types a binary-table column can have in Tessera, with their FITS TFORM codes.
public enum FITSColumnType: String, Sendable, Equatable {
    /// `D`: 64-bit real.
    case double
    /// `E`: 32-bit real.
    case float
    /// `J`: 32-bit integer.
    case int32
    /// `K`: 64-bit integer.
    case int64
    /// `L`: logical.
    case bool
    /// `wA`: fixed-width ASCII string (trailing blanks are not significant in FITS).
    case string
    /// `kD`: fixed-length vector of k reals per row (e.g. flux in k bands).
    case doubleVector
    /// `I`: 16-bit integer (e.g. MEDS `image_info.image_ext`).
    case int16
    /// `kJ`: fixed-length vector of k 32-bit integers per row.
    case int32Vector
    /// `kK`: fixed-length vector of k 64-bit integers per row (e.g. MEDS `start_row`).
    case int64Vector
}

/// The values of one column, one case per supported type.
public enum FITSColumnData: Sendable, Equatable {
    case double([Double])
    case float([Float])
    case int32([Int32])
    case int64([Int64])
    case bool([Bool])
    /// Printable ASCII strings; the column's width is that of the longest (at least 1).
    case string([String])
    /// `rows × width` values, row-major: row r is `values[r * width ..< (r + 1) * width]`.
    case doubleVector(values: [Double], width: Int)
    case int16([Int16])
    /// `rows × width` values, row-major, as for `doubleVector`.
    case int32Vector(values: [Int32], width: Int)
    /// `rows × width` values, row-major, as for `doubleVector`.
    case int64Vector(values: [Int64], width: Int)

    public var type: FITSColumnType {
        switch self {
        case .double: return .double
        case .float: return .float
        case .int32: return .int32
        case .int64: return .int64
        case .bool: return .bool
        case .string: return .string
        case .doubleVector: return .doubleVector
        case .int16: return .int16
        case .int32Vector: return .int32Vector
        case .int64Vector: return .int64Vector
        }
    }

    /// Number of table rows these values fill.
    public var rowCount: Int {
        switch self {
        case let .double(v): return v.count
        case let .float(v): return v.count
        case let .int32(v): return v.count
        case let .int64(v): return v.count
        case let .bool(v): return v.count
        case let .string(v): return v.count
        case let .doubleVector(values, width): return width > 0 ? values.count / width : 0
        case let .int16(v): return v.count
        case let .int32Vector(values, width): return width > 0 ? values.count / width : 0
        case let .int64Vector(values, width): return width > 0 ? values.count / width : 0
        }
    }

    /// Values per row: the vector width, 1 for scalar columns (and strings).
    public var width: Int {
        switch self {
        case let .doubleVector(_, width), let .int32Vector(_, width), let .int64Vector(_, width): return width
        default: return 1
        }
    }
}

/// A named column to write to (or as read from) a binary table.
public struct FITSColumn: Sendable, Equatable {
    /// TTYPEn: column name (printable ASCII, unique within the table, compared case-insensitively).
    public var name: String
    /// TUNITn: physical unit, e.g. "deg" or "nanomaggy"; nil for none.
    public var unit: String?
    public var data: FITSColumnData

    public init(name: String, data: FITSColumnData, unit: String? = nil) {
        self.name = name
        self.data = data
        self.unit = unit
    }

    public var rowCount: Int { data.rowCount }

    public static func double(_ name: String, _ values: [Double], unit: String? = nil) -> FITSColumn {
        FITSColumn(name: name, data: .double(values), unit: unit)
    }

    public static func float(_ name: String, _ values: [Float], unit: String? = nil) -> FITSColumn {
        FITSColumn(name: name, data: .float(values), unit: unit)
    }

    public static func int32(_ name: String, _ values: [Int32], unit: String? = nil) -> FITSColumn {
        FITSColumn(name: name, data: .int32(values), unit: unit)
    }

    public static func int64(_ name: String, _ values: [Int64], unit: String? = nil) -> FITSColumn {
        FITSColumn(name: name, data: .int64(values), unit: unit)
    }

    public static func bool(_ name: String, _ values: [Bool], unit: String? = nil) -> FITSColumn {
        FITSColumn(name: name, data: .bool(values), unit: unit)
    }

    public static func string(_ name: String, _ values: [String], unit: String? = nil) -> FITSColumn {
        FITSColumn(name: name, data: .string(values), unit: unit)
    }

    /// A vector column from one array of `width` values per row.
    /// - Precondition: every row has the same length `width` ≥ 1 (use
    ///   `doubleVector(_:values:width:)` for a table with no rows).
    public static func doubleVector(_ name: String, rows: [[Double]], unit: String? = nil) -> FITSColumn {
        precondition(!rows.isEmpty, "FITSColumn.doubleVector(rows:): no rows; use values:width:")
        let width = rows[0].count
        precondition(width >= 1 && rows.allSatisfy { $0.count == width },
                     "FITSColumn.doubleVector: every row needs the same length ≥ 1")
        return FITSColumn(name: name, data: .doubleVector(values: rows.flatMap { $0 }, width: width), unit: unit)
    }

    public static func int16(_ name: String, _ values: [Int16], unit: String? = nil) -> FITSColumn {
        FITSColumn(name: name, data: .int16(values), unit: unit)
    }

    /// A `kK` vector column from flat row-major values (`values.count` a multiple of `width` ≥ 1).
    public static func int64Vector(_ name: String, values: [Int64], width: Int, unit: String? = nil) -> FITSColumn {
        precondition(width >= 1 && values.count % width == 0,
                     "FITSColumn.int64Vector: \(values.count) values do not fill rows of width \(width)")
        return FITSColumn(name: name, data: .int64Vector(values: values, width: width), unit: unit)
    }

    /// A `kJ` vector column from flat row-major values (`values.count` a multiple of `width` ≥ 1).
    public static func int32Vector(_ name: String, values: [Int32], width: Int, unit: String? = nil) -> FITSColumn {
        precondition(width >= 1 && values.count % width == 0,
                     "FITSColumn.int32Vector: \(values.count) values do not fill rows of width \(width)")
        return FITSColumn(name: name, data: .int32Vector(values: values, width: width), unit: unit)
    }

    /// A vector column from flat row-major values (`values.count` must be a multiple of `width`).
    public static func doubleVector(_ name: String, values: [Double], width: Int, unit: String? = nil) -> FITSColumn {
        precondition(width >= 1 && values.count % width == 0,
                     "FITSColumn.doubleVector: \(values.count) values do not fill rows of width \(width)")
        return FITSColumn(name: name, data: .doubleVector(values: values, width: width), unit: unit)
    }
}

/// What a table says about one of its columns, without reading the data.
public struct FITSColumnInfo: Sendable, Equatable {
    public let name: String
    public let unit: String?
    /// The supported type of the column, or nil for TFORMs Tessera does not read (e.g. `I`, `B`,
    /// complex, variable-length arrays); see `tform`.
    public let type: FITSColumnType?
    /// TFORMn as written in the header, e.g. "1D", "12A", "5D".
    public let tform: String
    /// Elements per row (vector width; string width for `.string`).
    public let repeatCount: Int
    /// CFITSIO's type code for the column (TDOUBLE, TLONG, …), used to convert on read.
    let typecode: Int32
}

/// Swift types a scalar column can be read as with `FITSFile.readColumn(_:as:hdu:)`.
public protocol FITSColumnElement: Sendable {
    /// The column type whose values are of this Swift type.
    static var fitsColumnType: FITSColumnType { get }
    /// The values if `data` holds this type, else nil.
    static func values(from data: FITSColumnData) -> [Self]?
}

extension Double: FITSColumnElement {
    public static var fitsColumnType: FITSColumnType { .double }
    public static func values(from data: FITSColumnData) -> [Double]? {
        if case let .double(v) = data { return v } else { return nil }
    }
}

extension Float: FITSColumnElement {
    public static var fitsColumnType: FITSColumnType { .float }
    public static func values(from data: FITSColumnData) -> [Float]? {
        if case let .float(v) = data { return v } else { return nil }
    }
}

extension Int32: FITSColumnElement {
    public static var fitsColumnType: FITSColumnType { .int32 }
    public static func values(from data: FITSColumnData) -> [Int32]? {
        if case let .int32(v) = data { return v } else { return nil }
    }
}

extension Int64: FITSColumnElement {
    public static var fitsColumnType: FITSColumnType { .int64 }
    public static func values(from data: FITSColumnData) -> [Int64]? {
        if case let .int64(v) = data { return v } else { return nil }
    }
}

extension Int16: FITSColumnElement {
    public static var fitsColumnType: FITSColumnType { .int16 }
    public static func values(from data: FITSColumnData) -> [Int16]? {
        if case let .int16(v) = data { return v } else { return nil }
    }
}

extension Bool: FITSColumnElement {
    public static var fitsColumnType: FITSColumnType { .bool }
    public static func values(from data: FITSColumnData) -> [Bool]? {
        if case let .bool(v) = data { return v } else { return nil }
    }
}

extension String: FITSColumnElement {
    public static var fitsColumnType: FITSColumnType { .string }
    public static func values(from data: FITSColumnData) -> [String]? {
        if case let .string(v) = data { return v } else { return nil }
    }
}
