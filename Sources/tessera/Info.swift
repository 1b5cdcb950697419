import ArgumentParser
import Foundation
import TesseraLinAlg
import TesseraMPI
import TesseraRun
import TesseraSupport

extension Tessera {
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print versions of Tessera and its libraries, and where each MPI rank runs.")

        func run() throws {
            try MPIExecution.run { comm in
                let host = (try? MPIEnvironment.processorName()) ?? "unknown"
                let hosts = try comm.gather(message: host)
                let blasThreads = try comm.allreduce(Int64(BLASInfo.threads), .max)
                guard comm.isRoot, let hosts else { return }
                let version = SourceVersion.detect()
                let libraries = LibraryInfo.versions()
                print("tessera \(TesseraVersion.string)")
                print("  code:     \(version.commit ?? "unknown commit")\(version.dirty == true ? " (uncommitted changes)" : "") [\(version.source)]")
                print("  MPI:      \(libraries.mpi ?? "?"), \(comm.size) rank(s)")
                for (rank, host) in hosts.enumerated() { print("    rank \(rank): \(host)") }
                print("  HDF5:     \(libraries.hdf5 ?? "?")")
                print("  CFITSIO:  \(libraries.cfitsio ?? "?")")
                print("  BLAS:     \(libraries.blas ?? "?")")
                if blasThreads > 1 {
                    print("  note: OpenBLAS uses up to \(blasThreads) threads per rank; set OPENBLAS_NUM_THREADS=1 under MPI")
                }
            }
        }
    }
}
