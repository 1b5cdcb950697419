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
