import CHDF5
import CMPI
import Foundation
import TesseraMPI

/// An HDF5 file, serial or parallel (MPI-IO driver).
///
/// In a parallel file, operations that change the file's structure — creating groups, datasets
/// and attributes, extending datasets, closing — are *collective*: every rank of the
/// communicator must make the same calls in the same order. Raw data transfers can be independent
/// or collective (`TransferMode`). A serial file is an ordinary file owned by one process.
///
/// Close files explicitly with `close()`; the deinitialiser closes a file that was left open, but
/// in a parallel file all ranks must close at the same point.
public final class HDF5File {
    public enum Mode: Sendable { case readOnly, readWrite }

    /// Path as given by the caller; every error names it.
    public let path: String
    /// True when opened through the MPI-IO driver.
    public let isParallel: Bool
    private(set) var id: hid_t
    let dxplCollective: hid_t
    let dxplIndependent: hid_t

    private init(path: String, id: hid_t, parallel: Bool) throws {
        self.path = path
        self.id = id
        self.isParallel = parallel
        if parallel {
            dxplCollective = H5Pcreate(tessera_h5p_dataset_xfer())
            dxplIndependent = H5Pcreate(tessera_h5p_dataset_xfer())
            guard H5Pset_dxpl_mpio(dxplCollective, H5FD_MPIO_COLLECTIVE) >= 0,
                  H5Pset_dxpl_mpio(dxplIndependent, H5FD_MPIO_INDEPENDENT) >= 0 else {
                throw hdf5Error(file: path, object: nil, operation: "H5Pset_dxpl_mpio")
            }
        } else {
            dxplCollective = tessera_h5p_default()
            dxplIndependent = tessera_h5p_default()
        }
    }

    deinit { try? close() }

    /// Create a file; with `overwrite: false` an existing file is an error rather than truncated.
    /// Pass a communicator to create it for parallel access by all its ranks (collective).
    public static func create(_ path: String, overwrite: Bool = true, communicator: Communicator? = nil) throws -> HDF5File {
        silenceHDF5ErrorPrinting()
        let fapl = try fileAccessList(path: path, communicator: communicator)
        defer { H5Pclose(fapl) }
        let flags = overwrite ? tessera_h5f_acc_trunc() : tessera_h5f_acc_excl()
        let id = H5Fcreate(path, flags, tessera_h5p_default(), fapl)
        guard id >= 0 else {
            if !overwrite && FileManager.default.fileExists(atPath: path) {
                _ = hdf5ErrorStackDescriptions()
                throw HDF5Error(file: path, object: nil, operation: "create", message: "file exists and overwrite is off")
            }
            throw hdf5Error(file: path, object: nil, operation: "create")
        }
        return try HDF5File(path: path, id: id, parallel: communicator != nil)
    }

    /// Open an existing file. Pass a communicator to open it for parallel access (collective).
    public static func open(_ path: String, mode: Mode = .readOnly, communicator: Communicator? = nil) throws -> HDF5File {
        silenceHDF5ErrorPrinting()
        guard FileManager.default.fileExists(atPath: path) else {
            throw HDF5Error(file: path, object: nil, operation: "open", message: "no such file")
        }
        guard H5Fis_hdf5(path) > 0 else {
            _ = hdf5ErrorStackDescriptions()
            throw HDF5Error(file: path, object: nil, operation: "open", message: "not an HDF5 file (truncated or another format)")
        }
        let fapl = try fileAccessList(path: path, communicator: communicator)
        defer { H5Pclose(fapl) }
        let id = H5Fopen(path, mode == .readOnly ? tessera_h5f_acc_rdonly() : tessera_h5f_acc_rdwr(), fapl)
        guard id >= 0 else { throw hdf5Error(file: path, object: nil, operation: "open") }
        return try HDF5File(path: path, id: id, parallel: communicator != nil)
    }

    private static func fileAccessList(path: String, communicator: Communicator?) throws -> hid_t {
        let fapl = H5Pcreate(tessera_h5p_file_access())
        guard fapl >= 0 else { throw hdf5Error(file: path, object: nil, operation: "H5Pcreate") }
        if let communicator {
            guard tessera_h5_is_parallel() != 0 else {
                H5Pclose(fapl)
                throw HDF5Error(file: path, object: nil, operation: "open",
                                message: "this HDF5 library has no MPI-IO driver (link hdf5-openmpi, not the serial hdf5)")
            }
            guard H5Pset_fapl_mpio(fapl, communicator.handle, tessera_mpi_info_null()) >= 0 else {
                H5Pclose(fapl)
                throw hdf5Error(file: path, object: nil, operation: "H5Pset_fapl_mpio")
            }
        }
        return fapl
    }

    /// Flush buffers to disk (collective in a parallel file). After a flush the file is readable
    /// by other programs (h5py, h5dump) as it stands.
    public func flush() throws {
        try checkOpen("flush")
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw hdf5Error(file: path, object: nil, operation: "flush") }
    }

    /// Close the file (collective in a parallel file). Safe to call twice.
    public func close() throws {
        guard id >= 0 else { return }
        if isParallel {
            H5Pclose(dxplCollective)
            H5Pclose(dxplIndependent)
        }
        let status = H5Fclose(id)
        id = -1
        guard status >= 0 else { throw hdf5Error(file: path, object: nil, operation: "close") }
    }

    func checkOpen(_ operation: String) throws {
        guard id >= 0 else { throw HDF5Error(file: path, object: nil, operation: operation, message: "file is closed") }
    }

    /// Version of the HDF5 library, e.g. "1.10.8", and whether it has the MPI-IO driver.
    public static var libraryVersion: (version: String, parallel: Bool) {
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return ("\(major).\(minor).\(release)", tessera_h5_is_parallel() != 0)
    }

    // MARK: Paths and groups

    /// Normalise "a/b" to "/a/b".
    static func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : "/" + path }

    /// True if an object (group or dataset) exists at `path`. Checks each component so a missing
    /// parent is "no", not an error.
    public func exists(_ path: String) throws -> Bool {
        try checkOpen("exists")
        let parts = Self.absolute(path).split(separator: "/")
        var current = ""
        for part in parts {
            current += "/" + part
            let status = H5Lexists(id, current, tessera_h5p_default())
            if status < 0 { throw hdf5Error(file: self.path, object: current, operation: "H5Lexists") }
            if status == 0 { return false }
        }
        return true
    }

    /// Throw a clear error if nothing exists at `path`.
    func requireObject(_ path: String, for operation: String) throws {
        guard try exists(path) else {
            throw HDF5Error(file: self.path, object: Self.absolute(path), operation: operation, message: "no such object in the file")
        }
    }

    /// Create a group and any missing parents (collective in a parallel file).
    public func createGroup(_ path: String) throws {
        try checkOpen("createGroup")
        let absolute = Self.absolute(path)
        if try exists(absolute) { return }
        let lcpl = H5Pcreate(tessera_h5p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let group = H5Gcreate2(id, absolute, lcpl, tessera_h5p_default(), tessera_h5p_default())
        guard group >= 0 else { throw hdf5Error(file: self.path, object: absolute, operation: "create group") }
        H5Gclose(group)
    }

    /// Names of the members of a group, in the library's (alphabetical) order.
    public func members(of group: String = "/") throws -> [String] {
        try checkOpen("members")
        try requireObject(group, for: "list group")
        final class Names { var list: [String] = [] }
        let names = Names()
        var index: hsize_t = 0
        let status = H5Literate_by_name(id, Self.absolute(group), H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, data in
            guard let name, let data else { return 0 }
            Unmanaged<Names>.fromOpaque(data).takeUnretainedValue().list.append(String(cString: name))
            return 0
        }, Unmanaged.passUnretained(names).toOpaque(), tessera_h5p_default())
        withExtendedLifetime(names) {}
        guard status >= 0 else { throw hdf5Error(file: path, object: Self.absolute(group), operation: "list group") }
        return names.list
    }

    /// Intermediate groups of `path` must exist before a dataset is created there.
    func createParents(of path: String) throws {
        let absolute = Self.absolute(path)
        guard let slash = absolute.lastIndex(of: "/"), slash != absolute.startIndex else { return }
        try createGroup(String(absolute[..<slash]))
    }
}
