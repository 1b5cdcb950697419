import TesseraFITS
import TesseraHDF5
import TesseraLinAlg
import TesseraMPI
import TesseraRun

enum LibraryInfo {
    /// Versions of the C libraries in this process, for metadata.json.
    static func versions() -> LibraryVersions {
        let hdf5 = HDF5File.libraryVersion
        return LibraryVersions(mpi: MPIEnvironment.libraryVersion,
                               hdf5: hdf5.version + (hdf5.parallel ? " (parallel)" : " (serial)"),
                               cfitsio: FITSFile.libraryVersion, blas: BLASInfo.configuration)
    }
}
