import CHDF5

/// Options for a new dataset.
public struct DatasetLayout: Sendable {
    /// Chunk shape; required for extendible datasets and compression.
    public var chunks: [Int]?
    /// Maximum shape; `nil` entries are unlimited (the dataset can grow along them with `extend`).
    public var maxShape: [Int?]?
    /// gzip (deflate) level 1–9, with the byte-shuffle filter; nil for none. Tested on serial files.
    public var compression: Int?

    public init(chunks: [Int]? = nil, maxShape: [Int?]? = nil, compression: Int? = nil) {
        self.chunks = chunks
        self.maxShape = maxShape
        self.compression = compression
    }

    public static let contiguous = DatasetLayout()
}

/// An open n-dimensional numeric dataset.
///
/// Shapes, starts and counts are in HDF5's row-major order (last dimension fastest), as h5py shows them.
public final class HDF5Dataset {
    public let file: HDF5File
    /// Absolute path inside the file.
    public let path: String
    private var id: hid_t

    init(file: HDF5File, path: String, id: hid_t) {
        self.file = file
        self.path = path
        self.id = id
    }

    deinit { close() }

    public func close() {
        if id >= 0 { H5Dclose(id); id = -1 }
    }

    private func error(_ operation: String) -> HDF5Error {
        hdf5Error(file: file.path, object: path, operation: operation)
    }

    /// Current shape.
    public func shape() throws -> [Int] {
        let space = H5Dget_space(id)
        guard space >= 0 else { throw error("get dataspace") }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw error("get rank") }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }

    /// Grow (or shrink) an extendible, chunked dataset to `newShape` (collective in a parallel file).
    public func extend(to newShape: [Int]) throws {
        var dims = newShape.map { hsize_t($0) }
        guard H5Dset_extent(id, &dims) >= 0 else { throw error("extend to \(newShape)") }
    }

    // MARK: Writing

    /// Write the whole dataset. `values.count` must equal the product of its shape.
    public func write<T: HDF5Scalar>(_ values: [T], mode: TransferMode = .independent) throws {
        let shape = try self.shape()
        try write(values, start: [Int](repeating: 0, count: shape.count), count: shape, mode: mode)
    }

    /// Write `values` into the hyperslab `start ..< start + count` (row-major in `values`).
    /// With `.collective` every rank must call this; a rank with nothing to write passes a count
    /// with a zero in it and an empty array.
    public func write<T: HDF5Scalar>(_ values: [T], start: [Int], count: [Int], mode: TransferMode = .independent) throws {
        let n = count.reduce(1, *)
        guard values.count == n else {
            throw HDF5Error(file: file.path, object: path, operation: "write",
                            message: "\(values.count) values given for a hyperslab of \(count) (\(n) values)")
        }
        let (fileSpace, memSpace) = try selection(start: start, count: count, operation: "write")
        defer { H5Sclose(fileSpace); H5Sclose(memSpace) }
        let status = values.withUnsafeBytes { raw in
            H5Dwrite(id, T.hdf5Kind.nativeType, memSpace, fileSpace, transferList(mode), raw.baseAddress)
        }
        guard status >= 0 else { throw error("write hyperslab start \(start) count \(count)") }
    }

    // MARK: Reading

    /// Read the whole dataset, converting to `T`.
    public func read<T: HDF5Scalar>(_ type: T.Type, mode: TransferMode = .independent) throws -> HDF5Array<T> {
        let shape = try self.shape()
        return try read(T.self, start: [Int](repeating: 0, count: shape.count), count: shape, mode: mode)
    }

    /// Read the hyperslab `start ..< start + count`.
    public func read<T: HDF5Scalar>(_ type: T.Type, start: [Int], count: [Int],
                                    mode: TransferMode = .independent) throws -> HDF5Array<T> {
        let n = count.reduce(1, *)
        let (fileSpace, memSpace) = try selection(start: start, count: count, operation: "read")
        defer { H5Sclose(fileSpace); H5Sclose(memSpace) }
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: n) { buffer, initialised in
            if n > 0 {
                UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            }
            status = H5Dread(id, T.hdf5Kind.nativeType, memSpace, fileSpace, transferList(mode),
                             UnsafeMutableRawPointer(buffer.baseAddress))
            initialised = n
        }
        guard status >= 0 else { throw error("read hyperslab start \(start) count \(count)") }
        return HDF5Array(shape: count, values: values)
    }

    private func transferList(_ mode: TransferMode) -> hid_t {
        mode == .collective ? file.dxplCollective : file.dxplIndependent
    }

    /// File and memory dataspaces for a hyperslab; an empty count selects nothing (so a rank
    /// with no data can still take part in a collective transfer).
    private func selection(start: [Int], count: [Int], operation: String) throws -> (hid_t, hid_t) {
        let shape = try self.shape()
        guard start.count == shape.count, count.count == shape.count else {
            throw HDF5Error(file: file.path, object: path, operation: operation,
                            message: "start \(start) / count \(count) do not match the dataset's rank \(shape.count)")
        }
        for d in 0..<shape.count where start[d] < 0 || count[d] < 0 || start[d] + count[d] > shape[d] {
            throw HDF5Error(file: file.path, object: path, operation: operation,
                            message: "hyperslab start \(start) count \(count) lies outside shape \(shape)")
        }
        let fileSpace = H5Dget_space(id)
        guard fileSpace >= 0 else { throw error("get dataspace") }
        let empty = count.contains(0)
        var memDims = empty ? [hsize_t(1)] : count.map { hsize_t($0) }
        let memSpace = H5Screate_simple(Int32(memDims.count), &memDims, nil)
        if empty {
            H5Sselect_none(fileSpace)
            H5Sselect_none(memSpace)
        } else {
            var s = start.map { hsize_t($0) }
            var c = count.map { hsize_t($0) }
            guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &s, nil, &c, nil) >= 0 else {
                H5Sclose(fileSpace); H5Sclose(memSpace)
                throw error("select hyperslab")
            }
        }
        return (fileSpace, memSpace)
    }
}

extension HDF5File {
    /// Create a numeric dataset (collective in a parallel file). Missing parent groups are created.
    @discardableResult
    public func createDataset<T: HDF5Scalar>(_ path: String, of type: T.Type, shape: [Int],
                                             layout: DatasetLayout = .contiguous) throws -> HDF5Dataset {
        try checkOpen("createDataset")
        let absolute = Self.absolute(path)
        if try exists(absolute) {
            throw HDF5Error(file: self.path, object: absolute, operation: "create dataset", message: "an object already exists there")
        }
        try createParents(of: absolute)
        var dims = shape.map { hsize_t($0) }
        var maxDims: [hsize_t]? = layout.maxShape.map { $0.map { $0.map { hsize_t($0) } ?? tessera_h5s_unlimited() } }
        if let m = maxDims, m.count != dims.count {
            throw HDF5Error(file: self.path, object: absolute, operation: "create dataset", message: "maxShape rank differs from shape rank")
        }
        let space: hid_t = maxDims == nil
            ? H5Screate_simple(Int32(dims.count), &dims, nil)
            : H5Screate_simple(Int32(dims.count), &dims, &maxDims!)
        guard space >= 0 else { throw hdf5Error(file: self.path, object: absolute, operation: "create dataspace \(shape)") }
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(tessera_h5p_dataset_create())
        defer { H5Pclose(dcpl) }
        if let chunks = layout.chunks ?? (layout.maxShape != nil || layout.compression != nil ? shape.map { Swift.max($0, 1) } : nil) {
            guard chunks.count == shape.count else {
                throw HDF5Error(file: self.path, object: absolute, operation: "create dataset", message: "chunk rank differs from shape rank")
            }
            var c = chunks.map { hsize_t(Swift.max($0, 1)) }
            guard H5Pset_chunk(dcpl, Int32(c.count), &c) >= 0 else {
                throw hdf5Error(file: self.path, object: absolute, operation: "set chunks \(chunks)")
            }
        }
        if let level = layout.compression {
            guard (0...9).contains(level) else {
                throw HDF5Error(file: self.path, object: absolute, operation: "create dataset", message: "compression level \(level) is outside 0–9")
            }
            H5Pset_shuffle(dcpl)
            guard H5Pset_deflate(dcpl, UInt32(level)) >= 0 else {
                throw hdf5Error(file: self.path, object: absolute, operation: "set deflate")
            }
        }
        let dataset = H5Dcreate2(id, absolute, T.hdf5Kind.nativeType, space, tessera_h5p_default(), dcpl, tessera_h5p_default())
        guard dataset >= 0 else { throw hdf5Error(file: self.path, object: absolute, operation: "create dataset") }
        return HDF5Dataset(file: self, path: absolute, id: dataset)
    }

    /// Open an existing dataset; a missing path is an error naming it.
    public func dataset(_ path: String) throws -> HDF5Dataset {
        try checkOpen("dataset")
        let absolute = Self.absolute(path)
        try requireObject(absolute, for: "open dataset")
        let dataset = H5Dopen2(id, absolute, tessera_h5p_default())
        guard dataset >= 0 else { throw hdf5Error(file: self.path, object: absolute, operation: "open dataset") }
        return HDF5Dataset(file: self, path: absolute, id: dataset)
    }

    /// Create a dataset and write `values` into it in one go (serial files, or every rank
    /// passing the same values in a parallel file).
    public func write<T: HDF5Scalar>(_ values: [T], shape: [Int]? = nil, to path: String,
                                     layout: DatasetLayout = .contiguous) throws {
        let shape = shape ?? [values.count]
        let dataset = try createDataset(path, of: T.self, shape: shape, layout: layout)
        try dataset.write(values)
    }

    /// Read a whole dataset.
    public func read<T: HDF5Scalar>(_ type: T.Type, from path: String) throws -> HDF5Array<T> {
        try dataset(path).read(T.self)
    }
}
