/// A `ListScheduler` over a checkpoint: items the store already lists as finished are skipped,
/// and every result is saved through the store on the master the moment it arrives. A killed
/// run therefore loses only the items in flight, and the same call resumes it.
///
/// Only a result saves: an item that fails every attempt is left without a checkpoint (it is in
/// `failures`), so the next resume tries it again. If saving throws, the run stops (the engine
/// rethrows), since going on would compute results that could not be kept.
///
/// Construct it on every rank; rank 0 passes the items and the others pass none, so only the
/// master reads the checkpoint:
///
///     var scheduler = try ResumableListScheduler(items: comm.isRoot ? cells : [], store: store, key: \.index)
///     log("\(scheduler.alreadyDone) already done, \(scheduler.pending) to compute")
///     try WorkQueue.run(communicator: comm, scheduler: &scheduler) { cell in try compute(cell) }
public struct ResumableListScheduler<Item: Codable & Sendable, Store: CheckpointStore>: WorkScheduler
where Store.Value: Codable & Sendable {
    public typealias Result = Store.Value

    public let store: Store
    /// Items given that the store already listed as finished (skipped).
    public let alreadyDone: Int
    /// Items to compute now (given, less `alreadyDone`).
    public let pending: Int
    private var list: ListScheduler<Item, Result>
    private let labelOf: (Item) -> String

    /// Two items given with the same checkpoint key: they would overwrite each other's result.
    public struct DuplicateKeyError: Error, CustomStringConvertible {
        public let key: String
        public var description: String { "work items share the checkpoint key \(key); each item needs its own" }
    }

    /// - Parameters:
    ///   - items: every item of the run, finished or not, in the order to hand them out.
    ///   - key: an item's key in `store`; unique among `items`.
    ///   - maxAttempts: tries per item before it is given up (recorded in `failures`).
    ///   - label: a short name of an item for messages (default: its key).
    public init(items: [Item], store: Store, maxAttempts: Int = 3, key: @escaping (Item) -> Store.Key,
                label: ((Item) -> String)? = nil) throws {
        var seen = Set<Store.Key>()
        for item in items where !seen.insert(key(item)).inserted { throw DuplicateKeyError(key: "\(key(item))") }
        let finished = items.isEmpty ? [] : try store.finishedKeys()
        let todo = items.filter { !finished.contains(key($0)) }
        let index = Dictionary(uniqueKeysWithValues: todo.enumerated().map { (key($1), $0) })
        self.store = store
        alreadyDone = items.count - todo.count
        pending = todo.count
        labelOf = label ?? { "\(key($0))" }
        list = ListScheduler(items: todo, maxAttempts: maxAttempts, key: { index[key($0)] ?? -1 }) { item, result, _, _ in
            try store.save(result, for: key(item))
        }
    }

    /// Items given up after `maxAttempts` failures, with their last error; none has a checkpoint.
    public var failures: [(item: Item, message: String)] { list.failures }
    /// Results saved in this run.
    public var completed: Int { list.completed }
    public var maxAttempts: Int { list.maxAttempts }

    public mutating func nextItem(for rank: Int) -> Item? { list.nextItem(for: rank) }
    public var isFinished: Bool { list.isFinished }
    public mutating func complete(_ item: Item, result: Result, rank: Int, seconds: Double) throws {
        try list.complete(item, result: result, rank: rank, seconds: seconds)
    }
    public mutating func fail(_ item: Item, message: String, rank: Int) throws {
        try list.fail(item, message: message, rank: rank)
    }
    public func label(of item: Item) -> String { labelOf(item) }
}
