import CMPI

/// Process-wide MPI state: initialisation, finalisation and facts about the library.
///
/// MPI may be initialised only once per process, so `initialize()` is idempotent and every
/// caller gets the same world communicator. A process started without `mpirun` is a one-rank
/// world (MPI "singleton" mode), so every command and test runs unchanged on a laptop.
public enum MPIEnvironment {
    /// Initialise MPI if needed (thread level FUNNELED: only the main thread calls MPI) and return
    /// the world communicator, with errors set to return codes rather than abort the job.
    @discardableResult
    public static func initialize() throws -> Communicator {
        if isFinalized {
            throw MPIError.protocolError("MPI_Init", "MPI was already finalized in this process; it cannot be restarted")
        }
        if !isInitialized {
            var provided: Int32 = 0
            try mpiCheck(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided), "MPI_Init_thread")
        }
        try mpiCheck(MPI_Comm_set_errhandler(tessera_mpi_comm_world(), tessera_mpi_errors_return()),
                     "MPI_Comm_set_errhandler")
        return try Communicator.world()
    }

    public static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    public static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    /// Finalise MPI if it was initialised and not yet finalised; safe to call more than once.
    public static func finalize() throws {
        if isInitialized && !isFinalized {
            try mpiCheck(MPI_Finalize(), "MPI_Finalize")
        }
    }

    /// The MPI library's own version string, e.g. "Open MPI v4.1.4, ...".
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
        var length: Int32 = 0
        MPI_Get_library_version(&buffer, &length)
        let text = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: ",").first.map(String.init) ?? text
    }

    /// The name of the node this rank runs on (MPI_Get_processor_name; needs MPI initialised).
    public static func processorName() throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(tessera_mpi_max_processor_name()) + 1)
        var length: Int32 = 0
        try mpiCheck(MPI_Get_processor_name(&buffer, &length), "MPI_Get_processor_name")
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Wall-clock seconds since an arbitrary origin (MPI_Wtime).
    public static func wallTime() -> Double { MPI_Wtime() }
}
