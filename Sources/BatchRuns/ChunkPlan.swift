import TesseraSupport

/// How one tile's friends-of-friends groups are cut into chunks (batch jobs), and the seeds.
///
/// Groups are taken in their order (by first member) and packed greedily: a chunk is closed when
/// adding the next group would take it past `chunkSize` objects, so no group is split and a group
/// larger than `chunkSize` is a chunk of its own. Object indices are 0-based rows of the tile's
/// MEDS `object_data`.
public struct ChunkPlan: Sendable, Equatable, Codable {
    /// chunks[c]: the groups of chunk c, each a list of object indices.
    public let chunks: [[[Int]]]

    public init(groups: [[Int]], chunkSize: Int) {
        precondition(chunkSize >= 1, "chunk size must be >= 1")
        var chunks: [[[Int]]] = []
        var current: [[Int]] = [], count = 0
        for group in groups where !group.isEmpty {
            if count > 0 && count + group.count > chunkSize {
                chunks.append(current)
                current = []
                count = 0
            }
            current.append(group)
            count += group.count
        }
        if !current.isEmpty { chunks.append(current) }
        self.chunks = chunks
    }

    /// Objects in chunk `c`, ascending.
    public func objects(inChunk c: Int) -> [Int] { chunks[c].flatMap { $0 }.sorted() }

    public var objectCount: Int { chunks.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } }
}

/// Seeds of a batch run: one per group, from the run seed and the group's first object number
/// only (not its chunk, rank or order), so chunking, resubmission and rank count change nothing.
public enum BatchSeeds {
    /// The seed of the group whose smallest object number (MEDS `number`, or 1-based row) is `first`.
    public static func group(runSeed: UInt64, tile: String, first: Int) -> UInt64 {
        mix(runSeed, tile: tile, index: UInt64(first), salt: 0x67726F7570)  // "group"
    }

    /// The seed recorded for chunk `c` of `tile` (its own random draws, if a fitter wants any).
    public static func chunk(runSeed: UInt64, tile: String, index c: Int) -> UInt64 {
        mix(runSeed, tile: tile, index: UInt64(c), salt: 0x6368756E6B)  // "chunk"
    }

    /// SHA-256 of (run seed, tile name, index, salt), first 8 bytes: the same on every machine and
    /// in every process (Swift's `hashValue` is randomised per process).
    static func mix(_ seed: UInt64, tile: String, index: UInt64, salt: UInt64) -> UInt64 {
        var bytes: [UInt8] = []
        for v in [seed, index, salt] { bytes.append(contentsOf: (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }) }
        bytes.append(contentsOf: Array(tile.utf8))
        let hex = SHA256Digest.hex(of: bytes)
        return UInt64(hex.prefix(16), radix: 16)!
    }
}
