import Foundation
import TesseraSupport

/// One input file as recorded in `metadata.json`: enough to tell later whether the same data
/// were used.
public struct InputFileRecord: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: Int64
    /// SHA-256 of the contents; nil for files above `checksumLimit` (hashing a 50 GB pixel store
    /// would cost minutes at start-up), whose size and modification time are recorded instead.
    public var sha256: String?
    public var modified: String?
    /// A version string for inputs that carry one (e.g. a magnification table's `table_version`).
    public var version: String?

    public static let checksumLimit: Int64 = 2 << 30

    /// Describe the file at `path`; a missing file is an error naming it.
    public static func describe(_ path: String, version: String? = nil) throws -> InputFileRecord {
        let absolute = RunPaths.absolute(path)
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: absolute) } catch {
            throw FileError.cannotOpen(path: path, reason: "no such file")
        }
        let bytes = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = (attributes[.modificationDate] as? Date).map { Timestamp.iso8601($0) }
        let sha = bytes <= checksumLimit ? try SHA256Digest.hex(ofFile: absolute) : nil
        return InputFileRecord(path: absolute, bytes: bytes, sha256: sha, modified: modified, version: version)
    }
}

/// Versions of the C libraries a run used.
public struct LibraryVersions: Codable, Sendable, Equatable {
    public var mpi: String?
    public var hdf5: String?
    public var cfitsio: String?
    public var blas: String?
    public init(mpi: String? = nil, hdf5: String? = nil, cfitsio: String? = nil, blas: String? = nil) {
        self.mpi = mpi
        self.hdf5 = hdf5
        self.cfitsio = cfitsio
        self.blas = blas
    }
}

/// Contents of a run directory's `metadata.json`: how, when, where and from what code a result
/// was made. Keys are snake_case for Python readers.
public struct RunMetadata: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case running, finished, failed }

    public var tesseraVersion: String
    /// The subcommand, e.g. "selftest"; `tessera reproduce` reruns it.
    public var command: String
    /// The full command line as typed (argv).
    public var arguments: [String]
    /// Absolute path of the executable that ran.
    public var executable: String
    public var workingDirectory: String
    public var gitCommit: String?
    public var gitDirty: Bool?
    /// Where `git_commit` came from: "environment", "working-tree" or "unknown".
    public var gitSource: String
    public var startTime: String
    public var endTime: String?
    public var status: Status
    /// The error message of a failed run.
    public var error: String?
    public var mpiSize: Int
    /// Host name of every rank, in rank order.
    public var hosts: [String]
    public var seed: UInt64?
    public var inputs: [InputFileRecord]
    /// Version of a precomputed table the run depends on (lensing runs).
    public var tableVersion: String?
    public var libraries: LibraryVersions
    /// Start times of later sessions that resumed this run (`--resume`), oldest first.
    public var resumed: [String]?
    /// The batch job (SLURM) the run was started in; nil when started outside a scheduler.
    public var job: SchedulerJob?
    /// The simulation (table set) a run belongs to (`tessera infer`'s `sim_id`); nil for other commands.
    public var simId: String?
    /// The version of the selection table A(η) a run used (`tessera infer`); nil for other commands.
    public var selectionTableVersion: String?

    public init(tesseraVersion: String, command: String, arguments: [String], executable: String,
                workingDirectory: String, gitCommit: String?, gitDirty: Bool?, gitSource: String, startTime: String,
                endTime: String?, status: Status, error: String?, mpiSize: Int, hosts: [String], seed: UInt64?,
                inputs: [InputFileRecord], tableVersion: String?, libraries: LibraryVersions,
                job: SchedulerJob? = SchedulerJob.fromEnvironment()) {
        self.tesseraVersion = tesseraVersion
        self.command = command
        self.arguments = arguments
        self.executable = executable
        self.workingDirectory = workingDirectory
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.gitSource = gitSource
        self.startTime = startTime
        self.endTime = endTime
        self.status = status
        self.error = error
        self.mpiSize = mpiSize
        self.hosts = hosts
        self.seed = seed
        self.inputs = inputs
        self.tableVersion = tableVersion
        self.libraries = libraries
        self.job = job
    }

    enum CodingKeys: String, CodingKey {
        case tesseraVersion = "tessera_version", command, arguments, executable
        case workingDirectory = "working_directory", gitCommit = "git_commit", gitDirty = "git_dirty"
        case gitSource = "git_source", startTime = "start_time", endTime = "end_time", status, error
        case mpiSize = "mpi_size", hosts, seed, inputs, tableVersion = "table_version", libraries, resumed, job
        case simId = "sim_id", selectionTableVersion = "selection_table_version"
    }
}
