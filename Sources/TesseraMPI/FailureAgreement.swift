import CMPI
import Foundation

/// Lets ranks that fail find out whether every rank failed, so that the job reports one error
/// line and ends cleanly instead of every rank printing and one of them aborting.
///
/// Why a communicator of its own: when a rank fails, the others may be anywhere, some inside a
/// collective on the world communicator. A barrier posted there could match their collective
/// (undefined in MPI). This duplicate (made collectively at start-up, before any rank can fail)
/// carries nothing but the failure barrier and the gather of messages after it, so it can never
/// match work traffic. The barrier is non-blocking (MPI_Ibarrier) and polled with a deadline:
/// ranks that are still working never enter it, and the failed rank then gives up and aborts.
public struct FailureAgreement: @unchecked Sendable {
    /// The private duplicate of the world communicator.
    let comm: Communicator

    /// Collective over `world`: every rank must create it at the same point.
    public init(world: Communicator) throws {
        var dup: MPI_Comm? = nil
        try mpiCheck(MPI_Comm_dup(world.handle, &dup), "MPI_Comm_dup")
        guard let dup else { throw MPIError.protocolError("MPI_Comm_dup", "no communicator returned") }
        try mpiCheck(MPI_Comm_set_errhandler(dup, tessera_mpi_errors_return()), "MPI_Comm_set_errhandler")
        comm = Communicator(handle: dup, rank: world.rank, size: world.size)
    }

    /// Waits up to `seconds` for every rank to report a failure. If all did, returns every rank's
    /// message in rank order on rank 0 (an empty array on the others); if not, returns nil and the
    /// caller must abort the job (the pending barrier is left behind: the job is ending).
    public func everyRankFailed(message: String, within seconds: Double) -> [String]? {
        var request: MPI_Request? = nil
        guard MPI_Ibarrier(comm.handle, &request) == tessera_mpi_success() else { return nil }
        let deadline = Date().addingTimeInterval(seconds)
        var done: Int32 = 0
        while done == 0 {
            guard MPI_Test(&request, &done, tessera_mpi_status_ignore()) == tessera_mpi_success() else { return nil }
            if done != 0 { break }
            if Date() > deadline { return nil }
            usleep(5_000)
        }
        // gather gives the messages on rank 0 and nil elsewhere; if it fails, rank 0 aborts instead.
        do { return try comm.gather(message: message) ?? [] } catch { return comm.isRoot ? nil : [] }
    }
}
