import Foundation
import SystemPackage
import TesseraSupport

/// The JSON form of every checkpoint written here: pretty-printed, keys sorted, slashes not
/// escaped, and a final newline (the same bytes as a run directory's `params.json`), so files
/// diff cleanly and a given value always gives the same file.
enum CheckpointJSON {
    static func write<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(value)
            data.append(0x0A)
            try writeReplacing(path) { partial in try data.write(to: URL(fileURLWithPath: partial)) }
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError.cannotWrite(path: path, reason: "\(error)")
        }
    }

    /// The value in `path`, or nil if there is no such file; a file that cannot be read or
    /// decoded is `CheckpointError.damaged` with `what` (e.g. "cell checkpoint") and `remedy`.
    static func read<T: Decodable>(_ type: T.Type, from path: String, what: String, remedy: String) throws -> T? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CheckpointError.damaged(file: path, reason: "unreadable \(what) (\(error)); \(remedy)")
        }
    }
}

/// A directory of finished items, one JSON file each (e.g. `RUN/checkpoint/cell-000012.json`).
///
/// A file exists only once its item is finished: it is written under a temporary name
/// (`<name>.partial`, which `finishedKeys` ignores) and renamed into place. Files whose names do
/// not parse as a key are ignored, so other files may share the directory.
public struct JSONCheckpointDirectory<Key: Hashable, Value: Codable>: CheckpointStore {
    public let directory: String
    /// What one item is called in errors ("cell": "unreadable cell checkpoint …; delete it to recompute the cell").
    public let itemName: String
    private let fileName: (Key) -> String
    private let parse: (String) -> Key?

    /// - Parameters:
    ///   - fileName: the file name (no directory) of an item's checkpoint; must end in ".json".
    ///   - key: the inverse of `fileName`: the key of a file name, or nil for a file that is not a checkpoint.
    public init(directory: String, itemName: String, fileName: @escaping (Key) -> String, key: @escaping (String) -> Key?) {
        self.directory = directory
        self.itemName = itemName
        self.fileName = fileName
        self.parse = key
    }

    public func path(for key: Key) -> String {
        FilePath(directory).appending(fileName(key)).string
    }

    /// Creates the directory if needed, then writes the file atomically.
    public func save(_ value: Value, for key: Key) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw FileError.cannotWrite(path: directory, reason: "cannot create the checkpoint directory: \(error)")
        }
        try CheckpointJSON.write(value, to: path(for: key))
    }

    public func load(_ key: Key) throws -> Value? {
        try CheckpointJSON.read(Value.self, from: path(for: key), what: "\(itemName) checkpoint",
                                remedy: "delete it to recompute the \(itemName)")
    }

    /// The keys of the files present; none if the directory does not exist yet.
    public func finishedKeys() throws -> Set<Key> {
        guard FileManager.default.fileExists(atPath: directory) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        return Set(names.compactMap { $0.hasSuffix(".json") ? parse($0) : nil })
    }
}

extension JSONCheckpointDirectory where Key == Int {
    /// Integer keys in file names `<prefix><key, zero-padded to digits>.json`, e.g. prefix "cell-"
    /// and 6 digits: `cell-000012.json`. Any number of digits is read back.
    public init(directory: String, itemName: String, prefix: String, digits: Int) {
        self.init(directory: directory, itemName: itemName,
                  fileName: { prefix + String(format: "%0\(digits)d", $0) + ".json" },
                  key: { name in
                      guard name.hasPrefix(prefix), name.hasSuffix(".json") else { return nil }
                      return Int(name.dropFirst(prefix.count).dropLast(5))
                  })
    }
}

/// One JSON file holding the whole state of a run (e.g. `RUN/state.json`), replaced atomically
/// on every save: a reader, or a resume after a kill, always finds the last complete snapshot.
public struct JSONSnapshotFile<Snapshot: Codable & ResumeSnapshot>: SnapshotStore {
    public let path: String
    /// What the snapshot is called in errors ("scene state").
    public let what: String

    public init(path: String, what: String) {
        self.path = path
        self.what = what
    }

    /// Whether a snapshot has been saved (a run to resume).
    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    public func save(_ snapshot: Snapshot) throws {
        try CheckpointJSON.write(snapshot, to: path)
    }

    public func load() throws -> Snapshot? {
        try CheckpointJSON.read(Snapshot.self, from: path, what: what, remedy: "the run cannot be resumed from it")
    }

    public func finishedKeys() throws -> Set<Snapshot.Key> {
        Set(try load()?.finishedKeys ?? [])
    }
}
