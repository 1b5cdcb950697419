import ArgumentParser
import Foundation
import TesseraMPI
import TesseraRun
import TesseraRunners

extension Tessera {
    struct Clusters: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Weak-lensing cluster masses: mock halos, and per-halo fits across MPI ranks.",
            subcommands: [Mock.self, Fit.self])

        struct Mock: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write mock halos (ΔΣ profiles of NFW halos with an injected bias and scatter) and truth.csv.",
                discussion: "Keys for --config: `tessera config clusters-mock`. Output: RUN/halos/halo-<id>.h5 and RUN/truth.csv.")

            @Option(help: "YAML configuration (optional).") var config: String?
            @Option(help: "Run directory to create.") var out: String

            func run() throws {
                try MPIExecution.run { comm in
                    let c = try config.map { try ConfigLoader.load(ClusterMockConfiguration.self, from: $0) } ?? ClusterMockConfiguration()
                    let context = try RunContext.start(command: "clusters mock", configuration: c, output: out, seed: c.seed,
                                                       inputs: config.map { [$0] } ?? [], libraries: LibraryInfo.versions(),
                                                       communicator: comm)
                    if comm.isRoot {
                        let halos = try ClusterMockRunner.run(c, directory: context.directory)
                        print("clusters mock: wrote \(halos.count) halos to \(context.file("halos"))")
                    }
                    try context.finish()
                }
            }
        }

        struct Fit: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Fit every halo's mass (optimiser or NUTS) across MPI ranks, one result file per halo.",
                discussion: """
                Rank 0 hands halos to the other ranks and writes RUN/results/halo-<id>.h5 the moment \\
                each fit returns, so a crash loses at most the halos in flight; --resume RUN skips \\
                halos with a result. Ends with RUN/summary.csv. Keys for --config: `tessera config clusters-fit`.
                """)

            @Option(help: "YAML configuration.") var config: String?
            @Option(help: "Run directory to create.") var out: String?
            @Option(help: "Continue the fit run in this directory (its params.json is the configuration).") var resume: String?

            func run() throws {
                try MPIExecution.run { comm in
                    let file = resume.map { ($0 as NSString).appendingPathComponent(RunDirectory.paramsFile) } ?? config
                    guard let file, resume == nil || (config == nil && out == nil) else {
                        throw ConfigError.invalidValue(file: "command line", field: "--config",
                                                       reason: "give --config (and --out), or --resume DIR alone")
                    }
                    let c = try ConfigLoader.load(ClusterFitConfiguration.self, from: file)
                    let context = try RunContext.start(command: "clusters fit", configuration: c,
                                                       output: resume ?? out ?? defaultRunDirectory("clusters-fit"),
                                                       seed: c.seed, inputs: resume == nil ? [file] : [],
                                                       libraries: LibraryInfo.versions(), communicator: comm, resume: resume != nil)
                    do {
                        let summary = try ClusterFitRunner.run(c, context: context)
                        let failed = try comm.broadcast(message: comm.isRoot ? summary.failed : nil)
                        if !failed.isEmpty { throw RunStartError(message: "halo fits failed: \(failed.joined(separator: ", ")); rerun with --resume") }
                        try context.finish()
                    } catch {
                        try? context.finish(error: error)
                        throw error
                    }
                }
            }
        }
    }
}
