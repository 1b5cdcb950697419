import CMPI

/// The element kinds that travel as typed MPI buffers (no serialisation, bit-exact).
public enum MPIScalarKind: Sendable {
    case float, double, int32, int64, uint8, uint64

    var datatype: MPI_Datatype {
        switch self {
        case .float: return tessera_mpi_float()
        case .double: return tessera_mpi_double()
        case .int32: return tessera_mpi_int32()
        case .int64: return tessera_mpi_int64()
        case .uint8: return tessera_mpi_uint8()
        case .uint64: return tessera_mpi_uint64()
        }
    }
}

/// A Swift number type with a fixed MPI datatype, so arrays of it can be sent without copying.
public protocol MPIScalar: BitwiseCopyable, Sendable, Numeric, Comparable {
    static var mpiKind: MPIScalarKind { get }
}

extension Float: MPIScalar { public static var mpiKind: MPIScalarKind { .float } }
extension Double: MPIScalar { public static var mpiKind: MPIScalarKind { .double } }
extension Int32: MPIScalar { public static var mpiKind: MPIScalarKind { .int32 } }
extension Int64: MPIScalar { public static var mpiKind: MPIScalarKind { .int64 } }
extension UInt8: MPIScalar { public static var mpiKind: MPIScalarKind { .uint8 } }
extension UInt64: MPIScalar { public static var mpiKind: MPIScalarKind { .uint64 } }
extension Int: MPIScalar {
    // Swift's Int is 64 bits on every platform Tessera builds for.
    public static var mpiKind: MPIScalarKind { .int64 }
}

/// Reduction operators for `reduce` and `allreduce`.
public enum ReduceOperation: Sendable {
    case sum, min, max, product

    var op: MPI_Op {
        switch self {
        case .sum: return tessera_mpi_op_sum()
        case .min: return tessera_mpi_op_min()
        case .max: return tessera_mpi_op_max()
        case .product: return tessera_mpi_op_prod()
        }
    }
}
