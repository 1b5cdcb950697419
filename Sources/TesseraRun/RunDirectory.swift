import Foundation
import SystemPackage
import TesseraSupport

/// Errors about run directories; each names the directory or file.
public enum RunDirectoryError: Error, CustomStringConvertible, Equatable {
    case notEmpty(path: String)
    case notARunDirectory(path: String, missing: String)
    case malformed(file: String, reason: String)

    public var description: String {
        switch self {
        case let .notEmpty(path):
            return "\(path): run directory already holds results; choose another --out (or resume it, where the command supports --resume)"
        case let .notARunDirectory(path, missing): return "\(path): not a Tessera run directory (no \(missing))"
        case let .malformed(file, reason): return "\(file): \(reason)"
        }
    }
}

/// A run directory: where one `tessera` run writes its results next to `params.json` (the full
/// resolved configuration) and `metadata.json` (how it was made, `RunMetadata`).
///
/// Both files are written atomically (temporary file, then rename), so a run killed at any
/// moment leaves either the old or the new version, never half a file. Only rank 0 should use
/// this type; other ranks write their results through parallel HDF5.
public final class RunDirectory {
    public static let paramsFile = "params.json"
    public static let metadataFile = "metadata.json"

    public let path: String
    public private(set) var metadata: RunMetadata

    /// Create (or, with `resume`, reopen) the directory at `path` and write `params.json` and a
    /// `metadata.json` with status "running". Refuses a directory that already holds a
    /// `metadata.json` unless resuming, so finished results are never overwritten.
    public init<C: Encodable>(creating path: String, command: String, configuration: C, metadata: RunMetadata,
                              resume: Bool = false) throws {
        self.path = RunPaths.absolute(path)
        self.metadata = metadata
        let fm = FileManager.default
        if fm.fileExists(atPath: metadataPath) {
            guard resume else { throw RunDirectoryError.notEmpty(path: path) }
            // A resumed run keeps its original start, inputs and code record, and notes the resume.
            let original = try Self.readMetadata(of: self.path)
            self.metadata = original
            self.metadata.resumed = (original.resumed ?? []) + [metadata.startTime]
            self.metadata.status = .running
            self.metadata.endTime = nil
            self.metadata.error = nil
            self.metadata.hosts = metadata.hosts
            self.metadata.mpiSize = metadata.mpiSize
        } else if resume {
            throw RunDirectoryError.notARunDirectory(path: path, missing: Self.metadataFile)
        }
        do { try fm.createDirectory(atPath: self.path, withIntermediateDirectories: true) } catch {
            throw FileError.cannotWrite(path: path, reason: error.localizedDescription)
        }
        try Self.writeJSON(configuration, to: paramsPath)
        try saveMetadata()
    }

    public var paramsPath: String { FilePath(path).appending(Self.paramsFile).string }
    public var metadataPath: String { FilePath(path).appending(Self.metadataFile).string }

    /// A path inside the run directory.
    public func file(_ name: String) -> String { FilePath(path).appending(name).string }

    /// Mark the run finished (or failed, with its error) and record the end time.
    public func finish(error: (any Error)? = nil) throws {
        metadata.endTime = Timestamp.iso8601()
        metadata.status = error == nil ? .finished : .failed
        metadata.error = error.map { "\($0)" }
        try saveMetadata()
    }

    public func saveMetadata() throws { try Self.writeJSON(metadata, to: metadataPath) }

    /// Pretty, key-sorted JSON written atomically.
    public static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(value)
            data.append(0x0A)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FileError.cannotWrite(path: path, reason: "\(error)")
        }
    }

    /// Read the metadata of an existing run directory.
    public static func readMetadata(of directory: String) throws -> RunMetadata {
        let file = FilePath(directory).appending(metadataFile).string
        guard FileManager.default.fileExists(atPath: file) else {
            throw RunDirectoryError.notARunDirectory(path: directory, missing: metadataFile)
        }
        do {
            return try JSONDecoder().decode(RunMetadata.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        } catch let DecodingError.keyNotFound(key, _) {
            throw RunDirectoryError.malformed(file: file, reason: "field '\(key.stringValue)' is missing")
        } catch let DecodingError.typeMismatch(_, context) {
            throw RunDirectoryError.malformed(file: file, reason: "field '\(ConfigLoader.fieldPath(context.codingPath))' has the wrong type")
        } catch {
            throw RunDirectoryError.malformed(file: file, reason: "not valid JSON metadata (\(error))")
        }
    }
}
