import ArgumentParser
import Foundation
import RunKit
import TesseraMPI
import TesseraRun

extension Tessera {
    struct SelfTest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "selftest",
            abstract: "Check MPI messages and parallel HDF5 across all ranks and write a run directory.",
            discussion: """
            Every rank sends generated values and a Codable message to its neighbour, takes part in
            broadcasts and reductions, and writes its rows of one HDF5 file in parallel; rank 0
            reads the file back and checks every value. Use it on a new machine or cluster:
              mpirun -np 4 tessera selftest --out runs/selftest
            Keys for --config: `tessera config selftest`.
            """)

        @Option(name: .long, help: "YAML (or JSON) configuration; command-line options override it.")
        var config: String?

        @Option(name: .long, help: "Run directory to create (default: runs/selftest-<UTC time>).")
        var out: String?

        @Option(name: .customLong("values-per-rank"), help: "Doubles per rank (config key values_per_rank).")
        var valuesPerRank: Int?

        @Option(help: "Random seed (config key seed).")
        var seed: UInt64?

        @Option(help: "HDF5 transfer mode: collective or independent (config key transfer).")
        var transfer: String?

        func run() throws {
            try MPIExecution.run { comm in
                var configuration = try config.map { try ConfigLoader.load(SelfTestConfiguration.self, from: $0, communicator: comm) }
                    ?? SelfTestConfiguration()
                if let valuesPerRank { configuration.valuesPerRank = valuesPerRank }
                if let seed { configuration.seed = seed }
                if let transfer { configuration.transfer = transfer }
                do { try configuration.validate() } catch let error as InvalidConfigValue {
                    throw ConfigError.invalidValue(file: "command line", field: error.field, reason: error.reason)
                }
                let context = try RunContext.start(
                    command: "selftest", configuration: configuration, output: out ?? defaultRunDirectory("selftest"),
                    seed: configuration.seed, inputs: config.map { [$0] } ?? [], libraries: LibraryInfo.versions(),
                    communicator: comm)
                _ = try context.finishing { try SelfTestRunner.run(configuration, context: context) }
            }
        }
    }
}

/// `runs/<command>-<UTC time>`, the default run directory.
func defaultRunDirectory(_ command: String) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return "runs/\(command)-\(formatter.string(from: Date()))"
}
