import Foundation
import COpenBLAS

/// Facts about the BLAS in use, for `tessera info` and run metadata.
public enum BLASInfo {
    /// OpenBLAS build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var configuration: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }

    /// Threads OpenBLAS will use per call; should be 1 per MPI rank (OPENBLAS_NUM_THREADS=1).
    public static var threads: Int { Int(openblas_get_num_threads()) }
}

extension BLASInfo {
    /// Makes OpenBLAS run each call on the calling thread only, unless the user chose a count
    /// with OPENBLAS_NUM_THREADS. Tessera's parallelism is its MPI ranks; OpenBLAS's own threads
    /// would compete with them and, between the small calls the samplers make, spin in
    /// `sched_yield` (measured: a third of a serial `tessera sample` run spent in the kernel).
    public static func useCallingThreadUnlessConfigured() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil else { return }
        openblas_set_num_threads(1)
    }
}
