import CMPI

/// An MPI call that returned an error code (the world communicator is set to MPI_ERRORS_RETURN,
/// so MPI reports errors to us instead of aborting the job), or a protocol error of our own
/// such as a message of the wrong type.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    /// The MPI function or Tessera operation that failed, e.g. `MPI_Send`.
    public let operation: String
    /// The MPI error code (0 for Tessera's own protocol errors).
    public let code: Int32
    public let message: String

    public var description: String { "MPI error in \(operation): \(message)" + (code != 0 ? " (code \(code))" : "") }

    static func protocolError(_ operation: String, _ message: String) -> MPIError {
        MPIError(operation: operation, code: 0, message: message)
    }
}

@inline(__always)
func mpiCheck(_ code: Int32, _ operation: @autoclosure () -> String) throws {
    if code != tessera_mpi_success() {
        throw MPIError(operation: operation(), code: code, message: mpiErrorString(code))
    }
}

func mpiErrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(tessera_mpi_max_error_string()) + 1)
    var length: Int32 = 0
    guard MPI_Error_string(code, &buffer, &length) == tessera_mpi_success() else { return "unknown MPI error" }
    return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
