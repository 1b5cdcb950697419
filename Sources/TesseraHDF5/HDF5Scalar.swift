import CHDF5

/// Element kinds Tessera stores in HDF5 datasets and attributes. HDF5 converts between numeric
/// kinds on read, so a dataset written as Float can be read as Double.
public enum HDF5ScalarKind: Sendable {
    case float, double, int32, int64, uint8

    var nativeType: hid_t {
        switch self {
        case .float: return tessera_h5t_native_float()
        case .double: return tessera_h5t_native_double()
        case .int32: return tessera_h5t_native_int32()
        case .int64: return tessera_h5t_native_int64()
        case .uint8: return tessera_h5t_native_uint8()
        }
    }
}

/// A Swift number type with a native HDF5 type.
public protocol HDF5Scalar: BitwiseCopyable, Sendable, Numeric {
    static var hdf5Kind: HDF5ScalarKind { get }
}

extension Float: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .float } }
extension Double: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .double } }
extension Int32: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .int32 } }
extension Int64: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .int64 } }
extension UInt8: HDF5Scalar { public static var hdf5Kind: HDF5ScalarKind { .uint8 } }
extension Int: HDF5Scalar {
    /// Stored as a 64-bit integer.
    public static var hdf5Kind: HDF5ScalarKind { .int64 }
}

/// An n-dimensional array as HDF5 (and numpy/h5py) lay it out: row-major, the last dimension
/// varies fastest.
public struct HDF5Array<T>: Sendable where T: Sendable {
    public var shape: [Int]
    public var values: [T]

    public init(shape: [Int], values: [T]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// Element at a multi-index (row-major).
    public subscript(_ index: Int...) -> T {
        precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
        var flat = 0
        for (i, n) in zip(index, shape) { flat = flat * n + i }
        return values[flat]
    }
}

/// How a hyperslab transfer in a parallel file is coordinated. In a serial file both behave the same.
public enum TransferMode: Sendable {
    /// Each rank reads/writes on its own; other ranks need not take part.
    case independent
    /// Every rank of the file's communicator must call the same read/write (possibly with an
    /// empty selection); MPI-IO can then merge requests, which is much faster on parallel file systems.
    case collective
}
