import CHDF5
import Foundation

/// Variable-length UTF-8 string datasets (h5py reads them as `str`/`bytes`).
///
/// HDF5 cannot write variable-length data through MPI-IO collectively; in a parallel file every
/// rank must pass the same strings (independent writes of identical data).
extension HDF5File {
    func variableStringType() -> hid_t {
        let type = H5Tcopy(tessera_h5t_c_s1())
        H5Tset_size(type, tessera_h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    /// Write a 1-D dataset of strings.
    public func writeStrings(_ strings: [String], to path: String) throws {
        try checkOpen("writeStrings")
        let absolute = Self.absolute(path)
        if try exists(absolute) {
            throw HDF5Error(file: self.path, object: absolute, operation: "create dataset", message: "an object already exists there")
        }
        try createParents(of: absolute)
        let type = variableStringType()
        defer { H5Tclose(type) }
        var dims = [hsize_t(strings.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(id, absolute, type, space, tessera_h5p_default(), tessera_h5p_default(), tessera_h5p_default())
        guard dataset >= 0 else { throw hdf5Error(file: self.path, object: absolute, operation: "create string dataset") }
        defer { H5Dclose(dataset) }
        let status = Self.withCStringArray(strings) { pointers in
            H5Dwrite(dataset, type, tessera_h5s_all(), tessera_h5s_all(), dxplIndependent, pointers)
        }
        guard status >= 0 else { throw hdf5Error(file: self.path, object: absolute, operation: "write strings") }
    }

    /// Read a 1-D dataset of strings (variable- or fixed-length).
    public func readStrings(from path: String) throws -> [String] {
        try checkOpen("readStrings")
        let absolute = Self.absolute(path)
        try requireObject(absolute, for: "read strings")
        let dataset = H5Dopen2(id, absolute, tessera_h5p_default())
        guard dataset >= 0 else { throw hdf5Error(file: self.path, object: absolute, operation: "open dataset") }
        defer { H5Dclose(dataset) }
        let stored = H5Dget_type(dataset)
        defer { H5Tclose(stored) }
        guard H5Tget_class(stored) == H5T_STRING else {
            throw HDF5Error(file: self.path, object: absolute, operation: "read strings", message: "dataset does not hold strings")
        }
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let n = Int(H5Sget_simple_extent_npoints(space))
        return try readStringData(object: absolute, storedType: stored, space: space, count: n) { memType, buffer in
            H5Dread(dataset, memType, tessera_h5s_all(), tessera_h5s_all(), dxplIndependent, buffer)
        }
    }

    /// Shared by string datasets and string attributes: read `count` strings stored with
    /// `storedType` via `reader(memoryType, buffer)`.
    func readStringData(object: String, storedType: hid_t, space: hid_t, count: Int,
                        reader: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> [String] {
        if H5Tis_variable_str(storedType) > 0 {
            let memType = variableStringType()
            defer { H5Tclose(memType) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let status = pointers.withUnsafeMutableBytes { reader(memType, $0.baseAddress!) }
            guard status >= 0 else { throw hdf5Error(file: path, object: object, operation: "read strings") }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            pointers.withUnsafeMutableBytes { _ = H5Dvlen_reclaim(memType, space, tessera_h5p_default(), $0.baseAddress) }
            return strings
        } else {
            let width = H5Tget_size(storedType)
            let memType = H5Tcopy(tessera_h5t_c_s1())
            defer { H5Tclose(memType) }
            H5Tset_size(memType, width)
            var bytes = [UInt8](repeating: 0, count: width * count)
            let status = bytes.withUnsafeMutableBytes { reader(memType, $0.baseAddress!) }
            guard status >= 0 else { throw hdf5Error(file: path, object: object, operation: "read strings") }
            return (0..<count).map { i in
                let slice = bytes[(i * width)..<((i + 1) * width)]
                return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
    }

    /// Call `body` with a C array of NUL-terminated UTF-8 copies of `strings`.
    static func withCStringArray<R>(_ strings: [String], _ body: (UnsafeRawPointer) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return copies.withUnsafeBytes { body($0.baseAddress!) }
    }
}
