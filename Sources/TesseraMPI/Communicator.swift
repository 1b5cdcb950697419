import CMPI
import Foundation

/// Where a receive or probe may take its message from.
public enum MessageSource: Sendable, Equatable {
    case any
    case rank(Int)

    var mpiValue: Int32 {
        switch self {
        case .any: return tessera_mpi_any_source()
        case let .rank(r): return Int32(r)
        }
    }
}

/// Which tags a receive or probe accepts. Tags are small non-negative integers (at least 0…32767).
public enum MessageTag: Sendable, Equatable {
    case any
    case tag(Int)

    var mpiValue: Int32 {
        switch self {
        case .any: return tessera_mpi_any_tag()
        case let .tag(t): return Int32(t)
        }
    }
}

/// What a probe learned about a pending message.
public struct MessageInfo: Sendable, Equatable {
    public let source: Int
    public let tag: Int
    /// Size of the message in bytes.
    public let byteCount: Int
}

/// A received value with its envelope.
public struct Received<Value> {
    public let value: Value
    public let source: Int
    public let tag: Int
}

/// A typed view of an MPI communicator.
///
/// Every operation throws `MPIError` instead of aborting. Arrays of `MPIScalar` travel as raw
/// typed buffers; any `Codable` value travels as a JSON message in a small envelope that names
/// its Swift type and a protocol version, so a rank that receives the wrong kind of message
/// gets an error saying what it expected and what arrived.
///
/// `@unchecked Sendable`: the handle is an MPI library object valid for the life of the process;
/// MPI is initialised with thread level FUNNELED, so calls must come from the main thread.
public struct Communicator: @unchecked Sendable {
    package let handle: MPI_Comm
    /// This process's rank, 0 ..< size.
    public let rank: Int
    /// Number of ranks.
    public let size: Int

    /// Version of the Codable-message envelope; bump it when the envelope or its encoding changes.
    public static let messageProtocolVersion = 1

    static func world() throws -> Communicator {
        guard let comm = tessera_mpi_comm_world() else {
            throw MPIError.protocolError("MPI_COMM_WORLD", "the MPI library returned no world communicator")
        }
        var rank: Int32 = 0, size: Int32 = 0
        try mpiCheck(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank")
        try mpiCheck(MPI_Comm_size(comm, &size), "MPI_Comm_size")
        return Communicator(handle: comm, rank: Int(rank), size: Int(size))
    }

    public var isRoot: Bool { rank == 0 }

    private func checkRank(_ r: Int, _ operation: String) throws {
        guard (0..<size).contains(r) else {
            throw MPIError.protocolError(operation, "rank \(r) is outside 0..<\(size)")
        }
    }

    private static func checkCount(_ n: Int, _ operation: String) throws -> Int32 {
        guard n <= Int(Int32.max) else {
            throw MPIError.protocolError(operation, "\(n) elements exceed MPI's 32-bit count; split the message")
        }
        return Int32(n)
    }

    // MARK: Synchronisation

    public func barrier() throws { try mpiCheck(MPI_Barrier(handle), "MPI_Barrier") }

    /// End every rank of the job with `code` (MPI_Abort). Use after reporting the error: other
    /// ranks are killed without a chance to clean up.
    public func abort(code: Int32 = 1) -> Never {
        MPI_Abort(handle, code)
        exit(code)
    }

    // MARK: Point to point, typed arrays

    /// Send an array of numbers to rank `destination` with `tag` (blocking, MPI_Send).
    public func send<T: MPIScalar>(_ values: [T], to destination: Int, tag: Int) throws {
        try checkRank(destination, "send")
        let count = try Self.checkCount(values.count, "MPI_Send")
        try values.withUnsafeBytes { raw in
            try mpiCheck(MPI_Send(raw.baseAddress, count, T.mpiKind.datatype, Int32(destination), Int32(tag), handle),
                         "MPI_Send to rank \(destination) tag \(tag)")
        }
    }

    /// Receive an array of numbers of any length; the length is learned by probing first.
    public func receive<T: MPIScalar>(_ type: T.Type, from source: MessageSource = .any,
                                      tag: MessageTag = .any) throws -> Received<[T]> {
        let info = try probe(from: source, tag: tag)
        let stride = MemoryLayout<T>.stride
        guard info.byteCount % stride == 0 else {
            throw MPIError.protocolError("receive", "message of \(info.byteCount) bytes from rank \(info.source) tag \(info.tag) is not a whole number of \(T.self)")
        }
        let values = try receiveBuffer(T.self, count: info.byteCount / stride, source: info.source, tag: info.tag)
        return Received(value: values, source: info.source, tag: info.tag)
    }

    private func receiveBuffer<T: MPIScalar>(_ type: T.Type, count: Int, source: Int, tag: Int) throws -> [T] {
        let n = try Self.checkCount(count, "MPI_Recv")
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialised in
            try mpiCheck(MPI_Recv(buffer.baseAddress, n, T.mpiKind.datatype, Int32(source), Int32(tag), handle,
                                  tessera_mpi_status_ignore()),
                         "MPI_Recv from rank \(source) tag \(tag)")
            initialised = count
        }
    }

    // MARK: Probing

    /// Block until a matching message is pending and describe it (MPI_Probe).
    ///
    /// Note that OpenMPI's blocking calls busy-poll a core; a master rank that waits a long time
    /// should use `waitForMessage` instead.
    public func probe(from source: MessageSource = .any, tag: MessageTag = .any) throws -> MessageInfo {
        var status = MPI_Status()
        try mpiCheck(MPI_Probe(source.mpiValue, tag.mpiValue, handle, &status), "MPI_Probe")
        return try info(from: status)
    }

    /// Describe a pending matching message, or return nil at once if there is none (MPI_Iprobe).
    public func pendingMessage(from source: MessageSource = .any, tag: MessageTag = .any) throws -> MessageInfo? {
        var status = MPI_Status()
        var flag: Int32 = 0
        try mpiCheck(MPI_Iprobe(source.mpiValue, tag.mpiValue, handle, &flag, &status), "MPI_Iprobe")
        return flag != 0 ? try info(from: status) : nil
    }

    /// Wait for a matching message without spinning a core: poll with `pendingMessage`, sleeping
    /// between polls with a back-off from 50 µs up to `maxSleep` seconds. This is how a rank-0
    /// master waits, so it does not steal a core from a worker on a 2-core laptop.
    /// `between` runs after every empty poll; what it throws ends the wait (e.g. on a signal).
    public func waitForMessage(from source: MessageSource = .any, tag: MessageTag = .any,
                               maxSleep: Double = 0.01, between: () throws -> Void = {}) throws -> MessageInfo {
        var sleep = 50e-6
        while true {
            if let info = try pendingMessage(from: source, tag: tag) { return info }
            try between()
            usleep(UInt32(sleep * 1e6))
            sleep = Swift.min(sleep * 2, maxSleep)
        }
    }

    private func info(from status: MPI_Status) throws -> MessageInfo {
        var status = status
        var count: Int32 = 0
        try mpiCheck(MPI_Get_count(&status, tessera_mpi_byte(), &count), "MPI_Get_count")
        return MessageInfo(source: Int(status.MPI_SOURCE), tag: Int(status.MPI_TAG), byteCount: Int(count))
    }

    // MARK: Point to point, Codable messages

    /// Send any Codable value (blocking). It is JSON-encoded in an envelope naming its type.
    public func send<M: Encodable>(message: M, to destination: Int, tag: Int) throws {
        try send(try Self.encodeEnvelope(message), to: destination, tag: tag)
    }

    /// Receive a Codable value of type `M`; throws if the message holds a different type or a
    /// different envelope version.
    public func receive<M: Decodable>(message type: M.Type, from source: MessageSource = .any,
                                      tag: MessageTag = .any) throws -> Received<M> {
        let bytes = try receive(UInt8.self, from: source, tag: tag)
        let value = try Self.decodeEnvelope(M.self, bytes.value, context: "message from rank \(bytes.source) tag \(bytes.tag)")
        return Received(value: value, source: bytes.source, tag: bytes.tag)
    }

    struct Envelope<Body: Codable>: Codable {
        let v: Int
        let type: String
        let body: Body
    }

    private struct EnvelopeHeader: Decodable {
        let v: Int
        let type: String
    }

    private struct EncodableBox<M: Encodable>: Encodable {
        let v: Int
        let type: String
        let body: M
    }

    /// The unqualified type name (module-qualified names of private types contain addresses that
    /// differ between processes).
    static func typeName<M>(_ type: M.Type) -> String { String(describing: type) }

    static func encodeEnvelope<M: Encodable>(_ message: M) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return Array(try encoder.encode(EncodableBox(v: messageProtocolVersion, type: typeName(M.self), body: message)))
    }

    private struct DecodableBox<M: Decodable>: Decodable {
        let body: M
    }

    static func decodeEnvelope<M: Decodable>(_ type: M.Type, _ bytes: [UInt8], context: String) throws -> M {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = Data(bytes)
        let header: EnvelopeHeader
        do { header = try decoder.decode(EnvelopeHeader.self, from: data) } catch {
            throw MPIError.protocolError("receive", "\(context) is not a Tessera message: \(error)")
        }
        guard header.v == messageProtocolVersion else {
            throw MPIError.protocolError("receive", "\(context) uses message protocol v\(header.v), this build speaks v\(messageProtocolVersion)")
        }
        guard header.type == typeName(M.self) else {
            throw MPIError.protocolError("receive", "\(context) holds a \(header.type), expected \(typeName(M.self))")
        }
        do { return try decoder.decode(DecodableBox<M>.self, from: data).body } catch {
            throw MPIError.protocolError("receive", "\(context): cannot decode \(header.type): \(error)")
        }
    }

    // MARK: Collectives

    /// Broadcast an array from `root` to every rank; non-root ranks' `values` are ignored and the
    /// root's array is returned everywhere (its length is broadcast first).
    public func broadcast<T: MPIScalar>(_ values: [T], root: Int = 0) throws -> [T] {
        try checkRank(root, "broadcast")
        var count = [Int64(values.count)]
        try count.withUnsafeMutableBytes { raw in
            try mpiCheck(MPI_Bcast(raw.baseAddress, 1, tessera_mpi_int64(), Int32(root), handle), "MPI_Bcast (length)")
        }
        let n = Int(count[0])
        var result = rank == root ? values : [T](repeating: .zero, count: n)
        let mpiCount = try Self.checkCount(n, "MPI_Bcast")
        try result.withUnsafeMutableBytes { raw in
            try mpiCheck(MPI_Bcast(raw.baseAddress, mpiCount, T.mpiKind.datatype, Int32(root), handle), "MPI_Bcast")
        }
        return result
    }

    /// Broadcast a Codable value from `root`; pass nil on the other ranks.
    public func broadcast<M: Codable>(message: M?, root: Int = 0) throws -> M {
        var bytes: [UInt8] = []
        if rank == root {
            guard let message else {
                throw MPIError.protocolError("broadcast", "the root rank \(root) must supply the message")
            }
            bytes = try Self.encodeEnvelope(message)
        }
        bytes = try broadcast(bytes, root: root)
        return try Self.decodeEnvelope(M.self, bytes, context: "broadcast from rank \(root)")
    }

    /// Element-wise reduction onto `root`: returns the result there and nil elsewhere.
    /// Every rank must pass arrays of the same length.
    public func reduce<T: MPIScalar>(_ values: [T], _ operation: ReduceOperation, root: Int = 0) throws -> [T]? {
        try checkRank(root, "reduce")
        let n = try Self.checkCount(values.count, "MPI_Reduce")
        var result = values
        try values.withUnsafeBytes { send in
            try result.withUnsafeMutableBytes { recv in
                try mpiCheck(MPI_Reduce(send.baseAddress, recv.baseAddress, n, T.mpiKind.datatype, operation.op,
                                        Int32(root), handle), "MPI_Reduce")
            }
        }
        return rank == root ? result : nil
    }

    /// Element-wise reduction whose result every rank receives.
    public func allreduce<T: MPIScalar>(_ values: [T], _ operation: ReduceOperation) throws -> [T] {
        let n = try Self.checkCount(values.count, "MPI_Allreduce")
        var result = values
        try values.withUnsafeBytes { send in
            try result.withUnsafeMutableBytes { recv in
                try mpiCheck(MPI_Allreduce(send.baseAddress, recv.baseAddress, n, T.mpiKind.datatype, operation.op,
                                           handle), "MPI_Allreduce")
            }
        }
        return result
    }

    /// Scalar convenience for `allreduce`.
    public func allreduce<T: MPIScalar>(_ value: T, _ operation: ReduceOperation) throws -> T {
        try allreduce([value], operation)[0]
    }

    /// Gather one Codable value from every rank onto `root`, in rank order; nil on other ranks.
    public func gather<M: Codable>(message: M, root: Int = 0) throws -> [M]? {
        try checkRank(root, "gather")
        let bytes = try Self.encodeEnvelope(message)
        var counts = [Int32](repeating: 0, count: size)
        var myCount = [try Self.checkCount(bytes.count, "MPI_Gather")]
        try myCount.withUnsafeMutableBytes { send in
            try counts.withUnsafeMutableBytes { recv in
                try mpiCheck(MPI_Gather(send.baseAddress, 1, tessera_mpi_int32(), recv.baseAddress, 1, tessera_mpi_int32(),
                                        Int32(root), handle), "MPI_Gather (lengths)")
            }
        }
        var displacements = [Int32](repeating: 0, count: size)
        var total = 0
        for i in 0..<size {
            displacements[i] = try Self.checkCount(total, "MPI_Gatherv")
            total += Int(counts[i])
        }
        var all = [UInt8](repeating: 0, count: rank == root ? total : 0)
        try bytes.withUnsafeBytes { send in
            try all.withUnsafeMutableBytes { recv in
                try mpiCheck(MPI_Gatherv(send.baseAddress, myCount[0], tessera_mpi_uint8(), recv.baseAddress, &counts,
                                         &displacements, tessera_mpi_uint8(), Int32(root), handle), "MPI_Gatherv")
            }
        }
        guard rank == root else { return nil }
        return try (0..<size).map { i in
            let start = Int(displacements[i])
            return try Self.decodeEnvelope(M.self, Array(all[start..<start + Int(counts[i])]), context: "gather from rank \(i)")
        }
    }
}
