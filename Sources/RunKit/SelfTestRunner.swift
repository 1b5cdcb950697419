import Foundation
import TesseraHDF5
import TesseraMPI
import TesseraRun
import TesseraSupport
import WorkQueue

/// What `tessera selftest` found; written to `report.json` in the run directory.
public struct SelfTestReport: Codable, Sendable {
    public var ok: Bool
    public var mpiSize: Int
    public var valuesPerRank: Int
    public var transfer: String
    /// Each check that passed, in order.
    public var checks: [String]
    /// Sum of every rank's values, by MPI_Allreduce.
    public var allreduceTotal: Double
    public var hosts: [String]
    public var file: String
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case ok, mpiSize = "mpi_size", valuesPerRank = "values_per_rank", transfer, checks
        case allreduceTotal = "allreduce_total", hosts, file, seconds
    }
}

struct QueueResult: Codable, Sendable {
    var sum: Double
    var rank: Int
}

/// A check of the self-test that did not hold, on some rank.
public struct SelfTestFailure: Error, CustomStringConvertible {
    public let failures: [String]
    public var description: String { "selftest failed: " + failures.joined(separator: "; ") }
}

/// The note every ring message carries, to exercise Codable messages (including non-ASCII text
/// and values that JSON cannot write as numbers).
public struct RingToken: Codable, Sendable, Equatable {
    public var fromRank: Int
    public var host: String
    public var count: Int
    public var sum: Double
    public var note: String
    public var special: [Double]
}

/// Runs the self-test on every rank of a communicator. See `SelfTestConfiguration`.
///
/// File layout written (h5py shapes):
/// - `/ring/sent`      [size, n] float64: row r = the values rank r generated
/// - `/ring/received`  [size, n] float64: row r = the values rank r received from rank r−1
/// - `/ring/source_rank` [size] int64: rank each row's received values came from
/// - `/queue/rank`     [items] int64: the rank that computed each work-queue item
/// - root attributes: `seed`, `values_per_rank`, `mpi_size`, `transfer`, `tessera_version`
public enum SelfTestRunner {
    public static let ringTag = 11
    public static let tokenTag = 12

    /// The values rank `rank` generates: standard normals from stream `rank` of `seed`.
    public static func values(seed: UInt64, rank: Int, count: Int) -> [Double] {
        var rng = RandomSource(seed: seed, stream: UInt64(rank))
        return (0..<count).map { _ in rng.normal() }
    }

    public static func run(_ config: SelfTestConfiguration, context: RunContext,
                           log: (String) -> Void = { print($0) }) throws -> SelfTestReport {
        let comm = context.communicator
        let start = MPIEnvironment.wallTime()
        let n = config.valuesPerRank
        let mode: TransferMode = config.transfer == "collective" ? .collective : .independent
        let mine = values(seed: config.seed, rank: comm.rank, count: n)
        var failures: [String] = []
        var checks: [String] = []
        let host = (try? MPIEnvironment.processorName()) ?? "unknown"

        // 1. Ring: typed arrays and Codable tokens to the right-hand neighbour.
        let right = (comm.rank + 1) % comm.size
        let left = (comm.rank + comm.size - 1) % comm.size
        let token = RingToken(fromRank: comm.rank, host: host, count: n, sum: mine.reduce(0, +),
                              note: "rank \(comm.rank) → \(right): κ, γ, μ ✓", special: [.infinity, -.infinity, 1e-310])
        var received: [Double]
        var receivedToken: RingToken
        var sourceRank: Int
        if comm.size == 1 {
            // A blocking send to oneself can deadlock above MPI's eager limit; one rank is its own neighbour.
            (received, receivedToken, sourceRank) = (mine, token, 0)
        } else if comm.rank % 2 == 0 {
            try comm.send(mine, to: right, tag: ringTag)
            try comm.send(message: token, to: right, tag: tokenTag)
            let r = try comm.receive(Double.self, from: .rank(left), tag: .tag(ringTag))
            receivedToken = try comm.receive(message: RingToken.self, from: .rank(left), tag: .tag(tokenTag)).value
            (received, sourceRank) = (r.value, r.source)
        } else {
            let r = try comm.receive(Double.self, from: .rank(left), tag: .tag(ringTag))
            receivedToken = try comm.receive(message: RingToken.self, from: .rank(left), tag: .tag(tokenTag)).value
            (received, sourceRank) = (r.value, r.source)
            try comm.send(mine, to: right, tag: ringTag)
            try comm.send(message: token, to: right, tag: tokenTag)
        }
        let expectedLeft = values(seed: config.seed, rank: left, count: n)
        if received != expectedLeft { failures.append("rank \(comm.rank): ring values from rank \(left) differ") }
        if receivedToken.fromRank != left || receivedToken.count != n || receivedToken.sum != expectedLeft.reduce(0, +)
            || receivedToken.special[0] != .infinity || receivedToken.special[2] != 1e-310
            || !receivedToken.note.hasSuffix("κ, γ, μ ✓") {
            failures.append("rank \(comm.rank): Codable token from rank \(left) is wrong: \(receivedToken)")
        }
        checks.append("typed and Codable ring messages")

        // 2. Collectives.
        let stamp = try comm.broadcast(message: comm.isRoot ? token : nil, root: 0)
        if stamp.fromRank != 0 { failures.append("rank \(comm.rank): broadcast Codable came from \(stamp.fromRank)") }
        let rootValues = try comm.broadcast(comm.isRoot ? mine : [], root: 0)
        if rootValues != values(seed: config.seed, rank: 0, count: n) {
            failures.append("rank \(comm.rank): broadcast array differs")
        }
        let localSum = mine.reduce(0, +)
        let total = try comm.allreduce(localSum, .sum)
        let counts = try comm.allreduce([Int64(n), 1], .sum)
        if counts != [Int64(n * comm.size), Int64(comm.size)] { failures.append("rank \(comm.rank): allreduce counts \(counts)") }
        let maxRank = try comm.reduce([Int64(comm.rank)], .max, root: 0)
        if comm.isRoot && maxRank != [Int64(comm.size - 1)] { failures.append("reduce max rank gave \(String(describing: maxRank))") }
        checks.append("broadcast, reduce and allreduce")

        // 3. The master/worker engine: rank 0 hands out items, workers return results.
        let itemCount = 4 * Swift.max(comm.size - 1, 1)
        var computedBy = [Int64](repeating: -1, count: itemCount)
        var queueResults = [Double](repeating: .nan, count: itemCount)
        var scheduler = ListScheduler<Int, QueueResult>(items: comm.isRoot ? Array(0..<itemCount) : [], key: { $0 }) {
            item, result, rank, _ in
            guard computedBy[item] == -1 else { throw SelfTestFailure(failures: ["work item \(item) came back twice"]) }
            computedBy[item] = Int64(rank)
            queueResults[item] = result.sum
        }
        try WorkQueue.run(communicator: comm, scheduler: &scheduler) { item in
            QueueResult(sum: values(seed: config.seed, rank: 1000 + item, count: n).reduce(0, +), rank: comm.rank)
        }
        if comm.isRoot {
            for item in 0..<itemCount where queueResults[item] != values(seed: config.seed, rank: 1000 + item, count: n).reduce(0, +) {
                failures.append("work item \(item): wrong or missing result")
            }
            if comm.size > 1 && computedBy.contains(0) { failures.append("the master computed a work item") }
        }
        checks.append("master/worker queue (\(itemCount) items)")

        // 4. One HDF5 file written in parallel, each rank its own rows.
        let path = context.file(config.outputFile)
        let file = try HDF5File.create(path, communicator: comm)
        let sent = try file.createDataset("/ring/sent", of: Double.self, shape: [comm.size, n])
        let got = try file.createDataset("/ring/received", of: Double.self, shape: [comm.size, n])
        let sources = try file.createDataset("/ring/source_rank", of: Int64.self, shape: [comm.size])
        try sent.write(mine, start: [comm.rank, 0], count: [1, n], mode: mode)
        try got.write(received, start: [comm.rank, 0], count: [1, n], mode: mode)
        try sources.write([Int64(sourceRank)], start: [comm.rank], count: [1], mode: mode)
        try file.setAttribute("seed", .int(Int64(bitPattern: config.seed)))
        try file.setAttribute("values_per_rank", .int(Int64(n)))
        try file.setAttribute("mpi_size", .int(Int64(comm.size)))
        try file.setAttribute("transfer", .string(config.transfer))
        try file.setAttribute("tessera_version", .string(TesseraVersion.string))
        // The engine's record: which rank computed each work item (known on rank 0 only).
        let queueRanks = try file.createDataset("/queue/rank", of: Int64.self, shape: [itemCount])
        try queueRanks.write(comm.isRoot ? computedBy : [], start: [0], count: [comm.isRoot ? itemCount : 0], mode: mode)
        sent.close(); got.close(); sources.close(); queueRanks.close()
        try file.close()
        try comm.barrier()
        checks.append("parallel HDF5 write (\(config.transfer))")

        // 5. Rank 0 reads the file back serially and checks every value.
        if comm.isRoot {
            let readBack = try HDF5File.open(path)
            let sentBack = try readBack.read(Double.self, from: "/ring/sent")
            let gotBack = try readBack.read(Double.self, from: "/ring/received")
            let sourceBack = try readBack.read(Int64.self, from: "/ring/source_rank")
            for r in 0..<comm.size {
                let expected = values(seed: config.seed, rank: r, count: n)
                let expectedReceived = values(seed: config.seed, rank: (r + comm.size - 1) % comm.size, count: n)
                if Array(sentBack.values[(r * n)..<((r + 1) * n)]) != expected { failures.append("file row \(r) of /ring/sent differs") }
                if Array(gotBack.values[(r * n)..<((r + 1) * n)]) != expectedReceived {
                    failures.append("file row \(r) of /ring/received differs")
                }
                if sourceBack.values[r] != Int64((r + comm.size - 1) % comm.size) { failures.append("file /ring/source_rank[\(r)] wrong") }
            }
            try readBack.close()
            checks.append("serial read-back of every value")
        }

        // Every rank learns every failure, so all exit the same way.
        let allFailures = try comm.gather(message: failures) ?? []
        let failureCount = try comm.allreduce(Int64(failures.count), .sum)
        let hosts = try comm.gather(message: host) ?? [host]
        if failureCount > 0 {
            throw SelfTestFailure(failures: comm.isRoot ? allFailures.flatMap { $0 } : ["\(failureCount) check(s) failed; see rank 0"])
        }
        let report = SelfTestReport(ok: true, mpiSize: comm.size, valuesPerRank: n, transfer: config.transfer, checks: checks,
                                    allreduceTotal: total, hosts: hosts, file: path,
                                    seconds: MPIEnvironment.wallTime() - start)
        if comm.isRoot {
            try RunDirectory.writeJSON(report, to: context.file("report.json"))
            for check in checks { log("selftest: ok   \(check)") }
            log("selftest: \(comm.size) rank(s) on \(Set(hosts).sorted().joined(separator: ", ")); results in \(context.directory)")
        }
        return report
    }
}
