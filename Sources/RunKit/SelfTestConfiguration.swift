import TesseraRun

/// Configuration of `tessera selftest`: a small job that exercises exactly what every Tessera run
/// relies on — typed and Codable MPI messages between all ranks, collectives, and one HDF5 file
/// written in parallel — and checks every value. Run it on a new cluster before a long job.
public struct SelfTestConfiguration: Configuration, Equatable {
    /// Doubles each rank generates, sends round the ring, and writes.
    public var valuesPerRank: Int = 1000
    /// Seed of the values; rank r uses stream r of this seed.
    public var seed: UInt64 = 2026
    /// "collective" or "independent" MPI-IO transfers for the HDF5 writes.
    public var transfer: String = "collective"
    /// Name of the HDF5 file inside the run directory.
    public var outputFile: String = "selftest.h5"

    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case valuesPerRank = "values_per_rank", seed, transfer, outputFile = "output_file"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .valuesPerRank: return "Number of doubles each rank generates, sends to its neighbour and writes (>= 1)."
        case .seed: return "Random seed; rank r draws its values from stream r of this seed, so results do not depend on timing."
        case .transfer: return "HDF5 transfer mode for the parallel writes: collective or independent."
        case .outputFile: return "Name of the HDF5 results file, created inside the run directory."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        valuesPerRank = try c.decodeIfPresent(Int.self, forKey: .valuesPerRank) ?? d.valuesPerRank
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        transfer = try c.decodeIfPresent(String.self, forKey: .transfer) ?? d.transfer
        outputFile = try c.decodeIfPresent(String.self, forKey: .outputFile) ?? d.outputFile
    }

    public func validate() throws {
        guard valuesPerRank >= 1 else {
            throw InvalidConfigValue(field: Key.valuesPerRank.stringValue, reason: "must be at least 1, got \(valuesPerRank)")
        }
        guard ["collective", "independent"].contains(transfer) else {
            throw InvalidConfigValue(field: Key.transfer.stringValue, reason: "must be 'collective' or 'independent', got '\(transfer)'")
        }
        guard !outputFile.isEmpty, !outputFile.contains("/") else {
            throw InvalidConfigValue(field: Key.outputFile.stringValue, reason: "must be a plain file name, got '\(outputFile)'")
        }
    }
}
