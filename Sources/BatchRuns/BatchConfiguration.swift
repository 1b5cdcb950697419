import TesseraRun

/// Configuration of a survey batch run (`tessera batch setup RUNCONFIG TILES…`): how a tile's
/// objects are fitted and how the work is cut into chunks for a batch queue.
///
/// Chunks hold whole friends-of-friends groups, so a group is never split between jobs; the
/// random seed of every group is derived from `seed` and the group's first object number alone,
/// so how a tile is chunked does not change any result.
public struct BatchConfiguration: Configuration, Equatable {
    public var fitter = "mof"
    public var chunkSize = 200
    public var seed: UInt64 = 1
    public var ranksPerChunk = 2
    public var neighbourBuffer = 2
    public var extraCommands = ""
    public var slurmPartition = ""
    public var slurmTime = "02:00:00"
    public var slurmAccount = ""
    public var fit = BatchFitConfiguration()
    public var input = BatchInputConfiguration()
    public init() {}

    /// The fitters `fitter` may name (the registry; see `StampFitterKind`).
    public static let fitters = ["max_likelihood", "mof", "nuts"]

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case fitter, chunkSize = "chunk_size", seed, ranksPerChunk = "ranks_per_chunk"
        case neighbourBuffer = "neighbour_buffer", extraCommands = "extra_commands"
        case slurmPartition = "slurm_partition", slurmTime = "slurm_time", slurmAccount = "slurm_account", fit, input
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .fitter:
            return "Fitter per object: max_likelihood (each object alone, L-BFGS + Laplace errors), mof (each friends-of-friends group member refit with its neighbours' current models subtracted until converged) or nuts (NUTS posterior samples per group)."
        case .chunkSize: return "Objects per chunk (one batch job); chunks hold whole groups, so a group larger than this is a chunk of its own."
        case .seed: return "Run seed; every group's seed is derived from it and the group's first object number, so chunking changes nothing."
        case .ranksPerChunk: return "MPI ranks per chunk job (rank 0 hands groups to the others; 1 = fit on rank 0)."
        case .neighbourBuffer: return "Pixels added around each stamp when finding neighbours (overlapping stamps link objects into groups)."
        case .extraCommands: return "A file of shell lines copied into every job script before tessera starts (e.g. module load, activating an environment); empty = none. A relative path is taken from the directory `batch setup` runs in."
        case .slurmPartition: return "SLURM partition (#SBATCH --partition); empty = the cluster's default."
        case .slurmTime: return "SLURM time limit per chunk job (#SBATCH --time)."
        case .slurmAccount: return "SLURM account (#SBATCH --account); empty = none."
        case .fit: return "Fitter settings (keys: `tessera config batch-fit`)."
        case .input: return "Where pixels and PSFs come from: MEDS tiles or pixel-store tiles, PSFs from the MEDS file or a PSF store (keys: `tessera config batch-input`)."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        fitter = try c.decodeIfPresent(String.self, forKey: .fitter) ?? d.fitter
        chunkSize = try c.decodeIfPresent(Int.self, forKey: .chunkSize) ?? d.chunkSize
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        ranksPerChunk = try c.decodeIfPresent(Int.self, forKey: .ranksPerChunk) ?? d.ranksPerChunk
        neighbourBuffer = try c.decodeIfPresent(Int.self, forKey: .neighbourBuffer) ?? d.neighbourBuffer
        extraCommands = try c.decodeIfPresent(String.self, forKey: .extraCommands) ?? d.extraCommands
        slurmPartition = try c.decodeIfPresent(String.self, forKey: .slurmPartition) ?? d.slurmPartition
        slurmTime = try c.decodeIfPresent(String.self, forKey: .slurmTime) ?? d.slurmTime
        slurmAccount = try c.decodeIfPresent(String.self, forKey: .slurmAccount) ?? d.slurmAccount
        fit = try c.decodeIfPresent(BatchFitConfiguration.self, forKey: .fit) ?? d.fit
        input = try c.decodeIfPresent(BatchInputConfiguration.self, forKey: .input) ?? d.input
    }

    public func validate() throws {
        guard Self.fitters.contains(fitter) else {
            throw InvalidConfigValue(field: "fitter", reason: "must be one of \(Self.fitters.joined(separator: ", ")), not '\(fitter)'")
        }
        if chunkSize < 1 { throw InvalidConfigValue(field: "chunk_size", reason: "must be >= 1") }
        if ranksPerChunk < 1 { throw InvalidConfigValue(field: "ranks_per_chunk", reason: "must be >= 1") }
        if neighbourBuffer < 0 { throw InvalidConfigValue(field: "neighbour_buffer", reason: "must be >= 0 pixels") }
        try fit.validate()
        try input.validate()
        if slurmTime.isEmpty { throw InvalidConfigValue(field: "slurm_time", reason: "must be a SLURM time, e.g. 02:00:00") }
    }
}
