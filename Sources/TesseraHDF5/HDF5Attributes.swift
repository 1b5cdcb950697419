import CHDF5

/// A value stored as an HDF5 attribute. Numbers are stored as 64-bit ints or doubles.
public enum HDF5AttributeValue: Sendable, Equatable {
    case int(Int64)
    case double(Double)
    case string(String)
    case ints([Int64])
    case doubles([Double])

    public var doubleValue: Double? {
        switch self {
        case let .double(x): return x
        case let .int(i): return Double(i)
        default: return nil
        }
    }

    public var intValue: Int64? {
        if case let .int(i) = self { return i }
        return nil
    }

    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }
}

/// Attributes on groups and datasets. In a parallel file writing an attribute is collective and
/// every rank must pass the same value.
extension HDF5File {
    /// Set (create or replace) attribute `name` on the object at `objectPath` ("/" for the root group).
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue, on objectPath: String = "/") throws {
        try checkOpen("setAttribute")
        let object = Self.absolute(objectPath)
        try requireObject(object, for: "set attribute '\(name)'")
        let where_ = "\(object) attribute '\(name)'"
        if H5Aexists_by_name(id, object, name, tessera_h5p_default()) > 0 {
            guard H5Adelete_by_name(id, object, name, tessera_h5p_default()) >= 0 else {
                throw hdf5Error(file: path, object: where_, operation: "replace attribute")
            }
        }
        func create(type: hid_t, count: Int?) throws -> hid_t {
            let space: hid_t
            if let count {
                var dims = [hsize_t(count)]
                space = H5Screate_simple(1, &dims, nil)
            } else {
                space = H5Screate(H5S_SCALAR)
            }
            defer { H5Sclose(space) }
            let attribute = H5Acreate_by_name(id, object, name, type, space, tessera_h5p_default(), tessera_h5p_default(),
                                              tessera_h5p_default())
            guard attribute >= 0 else { throw hdf5Error(file: path, object: where_, operation: "create attribute") }
            return attribute
        }
        var status: herr_t = 0
        switch value {
        case var .int(i):
            let a = try create(type: tessera_h5t_native_int64(), count: nil)
            defer { H5Aclose(a) }
            status = H5Awrite(a, tessera_h5t_native_int64(), &i)
        case var .double(x):
            let a = try create(type: tessera_h5t_native_double(), count: nil)
            defer { H5Aclose(a) }
            status = H5Awrite(a, tessera_h5t_native_double(), &x)
        case let .ints(values):
            let a = try create(type: tessera_h5t_native_int64(), count: values.count)
            defer { H5Aclose(a) }
            status = values.withUnsafeBytes { H5Awrite(a, tessera_h5t_native_int64(), $0.baseAddress) }
        case let .doubles(values):
            let a = try create(type: tessera_h5t_native_double(), count: values.count)
            defer { H5Aclose(a) }
            status = values.withUnsafeBytes { H5Awrite(a, tessera_h5t_native_double(), $0.baseAddress) }
        case let .string(s):
            let type = variableStringType()
            defer { H5Tclose(type) }
            let a = try create(type: type, count: nil)
            defer { H5Aclose(a) }
            status = Self.withCStringArray([s]) { H5Awrite(a, type, $0) }
        }
        guard status >= 0 else { throw hdf5Error(file: path, object: where_, operation: "write attribute") }
    }

    /// Names of the attributes on an object.
    public func attributeNames(of objectPath: String = "/") throws -> [String] {
        try checkOpen("attributeNames")
        let object = Self.absolute(objectPath)
        try requireObject(object, for: "list attributes")
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, object, &info, UInt32(H5O_INFO_NUM_ATTRS), tessera_h5p_default()) >= 0 else {
            throw hdf5Error(file: path, object: object, operation: "list attributes")
        }
        return try (0..<Int(info.num_attrs)).map { i in
            let size = H5Aget_name_by_idx(id, object, H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), nil, 0, tessera_h5p_default())
            guard size >= 0 else { throw hdf5Error(file: path, object: object, operation: "attribute name") }
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            H5Aget_name_by_idx(id, object, H5_INDEX_NAME, H5_ITER_INC, hsize_t(i), &buffer, buffer.count, tessera_h5p_default())
            return String(cString: buffer)
        }
    }

    /// Read attribute `name` of the object at `objectPath`; missing objects and attributes are
    /// errors naming them.
    public func attribute(_ name: String, of objectPath: String = "/") throws -> HDF5AttributeValue {
        try checkOpen("attribute")
        let object = Self.absolute(objectPath)
        try requireObject(object, for: "read attribute '\(name)'")
        let where_ = "\(object) attribute '\(name)'"
        guard H5Aexists_by_name(id, object, name, tessera_h5p_default()) > 0 else {
            _ = hdf5ErrorStackDescriptions()
            throw HDF5Error(file: path, object: where_, operation: "read attribute", message: "no such attribute")
        }
        let a = H5Aopen_by_name(id, object, name, tessera_h5p_default(), tessera_h5p_default())
        guard a >= 0 else { throw hdf5Error(file: path, object: where_, operation: "open attribute") }
        defer { H5Aclose(a) }
        let type = H5Aget_type(a)
        defer { H5Tclose(type) }
        let space = H5Aget_space(a)
        defer { H5Sclose(space) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        let isScalar = H5Sget_simple_extent_type(space) == H5S_SCALAR
        switch H5Tget_class(type) {
        case H5T_STRING:
            let strings = try readStringData(object: where_, storedType: type, space: space, count: count) { memType, buffer in
                H5Aread(a, memType, buffer)
            }
            return .string(strings.first ?? "")
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: count)
            guard values.withUnsafeMutableBytes({ H5Aread(a, tessera_h5t_native_int64(), $0.baseAddress) }) >= 0 else {
                throw hdf5Error(file: path, object: where_, operation: "read attribute")
            }
            return isScalar ? .int(values[0]) : .ints(values)
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            guard values.withUnsafeMutableBytes({ H5Aread(a, tessera_h5t_native_double(), $0.baseAddress) }) >= 0 else {
                throw hdf5Error(file: path, object: where_, operation: "read attribute")
            }
            return isScalar ? .double(values[0]) : .doubles(values)
        default:
            throw HDF5Error(file: path, object: where_, operation: "read attribute", message: "unsupported attribute type")
        }
    }
}
