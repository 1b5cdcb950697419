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
                    let file = try configurationFile(resume: resume, given: config, option: "--config", others: [out])
                    let c = try ConfigLoader.load(ClusterFitConfiguration.self, from: file)
                    let context = try RunContext.start(command: "clusters fit", configuration: c,
                                                       output: resume ?? out ?? defaultRunDirectory("clusters-fit"),
                                                       seed: c.seed, inputs: resume == nil ? [file] : [],
                                                       libraries: LibraryInfo.versions(), communicator: comm, resume: resume != nil)
                    try context.finishing {
                        let summary = try ClusterFitRunner.run(c, context: context)
                        if !summary.failed.isEmpty {
                            throw RunStartError(message: "halo fits failed: \(summary.failed.joined(separator: ", ")); rerun with --resume")
                        }
                    }
                }
            }
        }
    }
}
