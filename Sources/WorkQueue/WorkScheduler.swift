/// Decides which work item goes to which worker, and takes results back. The master/worker
/// engine (`WorkQueue`) knows nothing else about the work: scene regions, table cells, halos and
/// batch chunks are all schedulers over their own item types.
///
/// A scheduler may return nil from `nextItem` while work is in flight (for example when every
/// remaining scene region overlaps one that is checked out); the engine then parks that worker
/// until another result comes back and asks again.
public protocol WorkScheduler {
    associatedtype Item: Codable & Sendable
    associatedtype Result: Codable & Sendable

    /// The next item for worker `rank`, or nil if none can be handed out now.
    mutating func nextItem(for rank: Int) -> Item?
    /// True once every item is finished (completed or given up) and none is in flight.
    var isFinished: Bool { get }
    /// Worker `rank` finished `item`. Throwing here (e.g. failing to save the result) stops the run.
    mutating func complete(_ item: Item, result: Result, rank: Int, seconds: Double) throws
    /// Worker `rank` raised `message` while working on `item`.
    mutating func fail(_ item: Item, message: String, rank: Int) throws
    /// A short name of `item` for messages, e.g. "cell 12" (default: its description, cut to 120 characters).
    func label(of item: Item) -> String
}

extension WorkScheduler {
    public func label(of item: Item) -> String {
        let text = String(describing: item)
        return text.count <= 120 ? text : String(text.prefix(117)) + "..."
    }
}

/// A fixed list of independent items, handed out in order; a failed item is retried (on any
/// worker) up to `maxAttempts` times and then recorded in `failures`.
public struct ListScheduler<Item: Codable & Sendable, Result: Codable & Sendable>: WorkScheduler {
    public typealias OnResult = (Item, Result, _ rank: Int, _ seconds: Double) throws -> Void

    private var queue: [Item]
    private var next = 0
    private var attempts: [Int: Int] = [:]
    private var inFlight = 0
    private let key: (Item) -> Int
    private let onResult: OnResult
    public let maxAttempts: Int
    public let total: Int
    /// Items given up after `maxAttempts` failures, with their last error.
    public private(set) var failures: [(item: Item, message: String)] = []
    public private(set) var completed = 0

    /// - Parameters:
    ///   - key: a stable integer id of an item (for counting attempts).
    ///   - onResult: called on the master with each result as it arrives. To checkpoint results
    ///     and skip finished items on resume, use `ResumableListScheduler` instead.
    public init(items: [Item], maxAttempts: Int = 3, key: @escaping (Item) -> Int, onResult: @escaping OnResult) {
        queue = items
        total = items.count
        self.maxAttempts = max(1, maxAttempts)
        self.key = key
        self.onResult = onResult
    }

    public mutating func nextItem(for rank: Int) -> Item? {
        guard next < queue.count else { return nil }
        defer { next += 1 }
        inFlight += 1
        return queue[next]
    }

    public var isFinished: Bool { next >= queue.count && inFlight == 0 }

    public mutating func complete(_ item: Item, result: Result, rank: Int, seconds: Double) throws {
        inFlight -= 1
        completed += 1
        try onResult(item, result, rank, seconds)
    }

    public mutating func fail(_ item: Item, message: String, rank: Int) throws {
        inFlight -= 1
        let n = (attempts[key(item)] ?? 0) + 1
        attempts[key(item)] = n
        if n < maxAttempts {
            queue.append(item)
        } else {
            failures.append((item, message))
        }
    }
}
