import ArgumentParser
import ClusterRuns
import Foundation
import RunKit
import SystemPackage
import TesseraMPI
import TesseraRun

extension Tessera {
    struct Clusters: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Weak-lensing cluster masses: mock halos, per-halo fits across MPI ranks, binning, population fits, truth comparison.",
            subcommands: [Mock.self, Fit.self, Bin.self, Ensemble.self, Compare.self])

        struct Mock: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write mock halos (ΔΣ, γ_t, g_t profiles and κ, mass maps of NFW halos with an injected bias and scatter) and truth.csv.",
                discussion: "Keys for --config: `tessera config clusters-mock`. Output: RUN/halos/halo-<id>.h5 (or .fits with format: fits), RUN/truth.csv and RUN/truth.fits.")

            @Option(help: "YAML configuration (optional).") var config: String?
            @Option(help: "Run directory to create.") var out: String

            func run() throws {
                try MPIExecution.run { comm in
                    let c = try config.map { try ConfigLoader.load(ClusterMockConfiguration.self, from: $0, communicator: comm) } ?? ClusterMockConfiguration()
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
                Reads halo-<id>.h5 or halo-<id>.fits files (any mix of ΔΣ, γ_t, g_t, κ map, mass map). \
                Rank 0 hands halos to the other ranks and writes RUN/results/halo-<id>.h5 the moment \
                each fit returns, so a crash loses at most the halos in flight; --resume RUN skips \
                halos with a result. Ends with RUN/summary.csv and RUN/summary.fits. Keys for --config: `tessera config clusters-fit`.
                """)

            @OptionGroup var options: ResumableRunOptions

            func run() throws {
                try MPIExecution.run { comm in
                    let file = try options.configFile()
                    let c = try ConfigLoader.load(ClusterFitConfiguration.self, from: file, communicator: comm)
                    let context = try RunContext.start(command: "clusters fit", configuration: c, output: options.output(command: "clusters-fit"),
                                                       seed: c.seed, inputs: options.inputs([file]),
                                                       sharedInputs: [c.halos],  // the workers read the halo files
                                                       libraries: LibraryInfo.versions(), communicator: comm, resume: options.resume != nil,
                                                       resumable: true)
                    try context.finishing {
                        let summary = try ClusterFitRunner.run(c, context: context)
                        if !summary.failed.isEmpty {
                            throw RunStartError(message: "halo fits failed: \(summary.failed.joined(separator: ", ")); rerun with --resume")
                        }
                    }
                }
            }
        }

        struct Bin: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Assign a fit run's halos to bins (edges on a summary column, or an external command).",
                discussion: """
                Reads FIT_RUN/summary.csv and writes, into OUT (default FIT_RUN/bins, its own run directory \
                with params.json and metadata.json): bins.csv (id,bin), bin-<label>.txt per non-empty bin \
                and bin_summary.csv. A bin with no halos is logged and skipped (empty_bins: skip) or an \
                error (empty_bins: error). Keys for --config: `tessera config clusters-bin`.
                """)

            @Argument(help: "The `tessera clusters fit` run directory.") var fitRun: String
            @Option(help: "YAML configuration (optional; defaults bin log10_true_mass on [14, 14.5, 15]).") var config: String?
            @Option(help: "Output run directory (default FIT_RUN/bins).") var out: String?

            func run() throws {
                try MPIExecution.run { comm in
                    let c = try config.map { try ConfigLoader.load(ClusterBinConfiguration.self, from: $0, communicator: comm) } ?? ClusterBinConfiguration()
                    let context = try RunContext.start(command: "clusters bin", configuration: c,
                                                       output: out ?? FilePath(fitRun).appending("bins").string, seed: nil,
                                                       inputs: config.map { [$0] } ?? [], libraries: LibraryInfo.versions(), communicator: comm)
                    try context.finishing {
                        if comm.isRoot { _ = try ClusterBinRunner.run(c, fitRun: fitRun, output: context.directory) }
                    }
                }
            }
        }

        struct Ensemble: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Per bin, the population fit M_WL = b · M_true with log-normal scatter σ_lnM (NUTS over each halo's posterior).",
                discussion: """
                Halos fitted with NUTS enter through importance weights over their posterior samples, \
                optimiser fits through their Gaussian ML point and error. Bins: --bins, else \
                FIT_RUN/bins/bins.csv if present, else one bin of all halos. Writes into OUT (default \
                FIT_RUN/ensemble, its own run directory): ensemble.h5, ensemble.csv, ensemble_samples.csv. \
                Keys for --config: `tessera config clusters-ensemble`.
                """)

            @Argument(help: "The `tessera clusters fit` run directory.") var fitRun: String
            @Option(help: "YAML configuration (optional).") var config: String?
            @Option(help: "bins.csv membership file (default FIT_RUN/bins/bins.csv when it exists).") var bins: String?
            @Option(help: "Output run directory (default FIT_RUN/ensemble).") var out: String?

            func run() throws {
                try MPIExecution.run { comm in
                    let c = try config.map { try ConfigLoader.load(ClusterEnsembleConfiguration.self, from: $0, communicator: comm) } ?? ClusterEnsembleConfiguration()
                    let defaultBins = FilePath(fitRun).appending("bins/bins.csv").string
                    let binsFile = bins ?? (FileManager.default.fileExists(atPath: defaultBins) ? defaultBins : nil)
                    let context = try RunContext.start(command: "clusters ensemble", configuration: c,
                                                       output: out ?? FilePath(fitRun).appending("ensemble").string, seed: c.seed,
                                                       inputs: (config.map { [$0] } ?? []) + (binsFile.map { [$0] } ?? []),
                                                       libraries: LibraryInfo.versions(), communicator: comm)
                    try context.finishing {
                        if comm.isRoot {
                            _ = try ClusterEnsembleRunner.run(c, fitRun: fitRun, bins: binsFile, output: context.directory)
                            print("clusters ensemble: wrote \(context.file("ensemble.h5")), ensemble.csv, ensemble_samples.csv")
                        }
                    }
                }
            }
        }

        struct Compare: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Per bin, the ensemble's bias and scatter (likelihoods, posteriors, samples) against the simulation truth.",
                discussion: """
                Reads FIT_RUN/ensemble (or --ensemble) and the truth table (truth.fits as `clusters mock` \
                writes it). Writes into OUT (default FIT_RUN/compare, its own run directory): compare.csv, \
                compare_curves.csv (plot-ready), compare_samples.csv and compare.fits (HDUs SUMMARY, CURVES, SAMPLES).
                """)

            @Argument(help: "The `tessera clusters fit` run directory.") var fitRun: String
            @Option(help: "Truth table (FITS).") var truth: String
            @Option(help: "Ensemble run directory (default FIT_RUN/ensemble).") var ensemble: String?
            @Option(help: "Points per parameter of the plot-ready curves.") var gridPoints: Int = 101
            @Option(help: "Output run directory (default FIT_RUN/compare).") var out: String?

            func run() throws {
                try MPIExecution.run { comm in
                    var c = ClusterCompareConfiguration()
                    c.truth = RunPaths.absolute(truth)
                    c.gridPoints = gridPoints
                    try c.validate()
                    let context = try RunContext.start(command: "clusters compare", configuration: c,
                                                       output: out ?? FilePath(fitRun).appending("compare").string, seed: nil,
                                                       inputs: [truth], libraries: LibraryInfo.versions(), communicator: comm)
                    try context.finishing {
                        if comm.isRoot {
                            _ = try ClusterCompareRunner.run(c, fitRun: fitRun,
                                                             ensemble: ensemble ?? FilePath(fitRun).appending("ensemble").string,
                                                             output: context.directory)
                            print("clusters compare: wrote \(context.file("compare.csv")), compare_curves.csv, compare_samples.csv, compare.fits")
                        }
                    }
                    if comm.isRoot { ReportHook.write(context.directory) }
                }
            }
        }
    }
}
