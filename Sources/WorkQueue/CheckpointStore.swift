/// The never-lose-work half of the work queue: where a run keeps what it has finished, so a
/// killed run resumed with `--resume` does only what is left.
///
/// Tessera's runs checkpoint in one of two shapes, and both answer the one question resume asks,
/// "which items are finished?":
///
/// - **One file per finished item** (`CheckpointStore`): a table cell's distributions, a halo's
///   fit. Items are independent, so each result is saved alone, atomically, the moment it reaches
///   the master; resume lists the saved keys and skips those items
///   (`ResumableListScheduler`). Stores: `JSONCheckpointDirectory` (a Codable value per item, as
///   JSON) and, in the runner layer, stores of HDF5 result files.
/// - **One snapshot of the whole state** (`SnapshotStore`): the scene fit, whose items (regions)
///   are made on the fly from the current state and change it, so a finished item is not a file
///   of its own but a change already folded into the state. The snapshot is rewritten atomically
///   after every check-in and records which items it includes; resume restores the state from it,
///   and that restored state is what keeps finished work from being handed out again. Store:
///   `JSONSnapshotFile`.
///
/// Either way a save replaces the old checkpoint with rename(2) (`writeReplacing`), so a kill at
/// any moment leaves the previous complete checkpoint or the new one, never half of one; and a
/// damaged checkpoint is an error naming its file (`CheckpointError.damaged`), never silently
/// recomputed over, so a real problem (a full disk, a bad copy) is seen.
public protocol FinishedItems {
    associatedtype Key: Hashable

    /// The keys of every item the checkpoint records as finished (empty before the first save).
    func finishedKeys() throws -> Set<Key>
}

/// A checkpoint of independent items: one saved value per finished item, addressed by its key.
/// Used on the master (rank 0) only.
public protocol CheckpointStore: FinishedItems {
    associatedtype Value

    /// Saves `value` as the finished result of item `key`, atomically: after a crash at any moment
    /// the item is either saved whole or not at all (and then is computed again on resume).
    func save(_ value: Value, for key: Key) throws
    /// The saved result of item `key`, or nil if it has none. A damaged one is an error naming its file.
    func load(_ key: Key) throws -> Value?
}

/// A checkpoint of a whole state that includes every finished item (see `FinishedItems`).
/// Used on the master (rank 0) only.
public protocol SnapshotStore: FinishedItems {
    associatedtype Snapshot

    /// Replaces the saved snapshot with `snapshot`, atomically.
    func save(_ snapshot: Snapshot) throws
    /// The saved snapshot, or nil before the first save. A damaged one is an error naming its file.
    func load() throws -> Snapshot?
}

/// A snapshot that records which items it includes (e.g. the scene's checked-in patch numbers),
/// so its store can answer `finishedKeys()`.
public protocol ResumeSnapshot {
    associatedtype Key: Hashable
    var finishedKeys: [Key] { get }
}

/// A checkpoint that exists but cannot be read back.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// `file` is unreadable or malformed; `reason` says why and what to do.
    case damaged(file: String, reason: String)

    public var description: String {
        switch self {
        case let .damaged(file, reason): return "\(file): \(reason)"
        }
    }
}
