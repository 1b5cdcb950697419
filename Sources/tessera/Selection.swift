import ArgumentParser
import Foundation
import LensingRuns
import RunKit
import TesseraMPI
import TesseraRun

extension Tessera {
    /// `tessera selection build`: the selection normalisation A(η) of a lens population across MPI ranks.
    struct Selection: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the selection normalisation A(η) of a lens population across MPI ranks.",
            subcommands: [Build.self])

        struct Build: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "A(η) by Monte Carlo over a Halton design and refinement rounds, interpolated smoothly, as RUN/selection.h5.",
                discussion: """
                Rank 0 hands η points to the other ranks; each estimates A(η) from `draws` mock lenses \
                (common random numbers). After the space-filling design, rounds add points where the \
                interpolant's leave-one-out error of ln A is largest, until every node is within \
                `tolerance` × its binomial σ(ln A) or `max_points` is reached (the file and the log say \
                which). Every point is checkpointed as it arrives; --resume DIR continues a killed build \
                and chooses the same points. Keys for --config: `tessera config lenses`.

                  mpirun -np 4 tessera selection build --config population.yaml --out runs/selection
                """)

            @OptionGroup var options: ResumableRunOptions

            func run() throws {
                try MPIExecution.run { comm in
                    let file = try options.configFile()
                    let c = try ConfigLoader.load(LensPopulationConfiguration.self, from: file, communicator: comm)
                    let (population, tableVersion) = try c.population()
                    if let resume = options.resume {
                        // Points computed over one magnification table must not be mixed with points over another.
                        let recorded = try RunDirectory.readMetadata(of: resume).tableVersion
                        if recorded != tableVersion {
                            throw RunStartError(message: "\(c.table): table_version is '\(tableVersion)' but the build in \(resume) was started over table_version '\(recorded ?? "none")'; resume it with that table, or start a new build")
                        }
                    }
                    let context = try RunContext.start(
                        command: "selection build", configuration: c, output: options.output(command: "selection-\(c.simId)"),
                        seed: c.seed, inputs: options.inputs([file]), sharedInputs: [c.table], tableVersion: tableVersion,
                        libraries: LibraryInfo.versions(), communicator: comm, resume: options.resume != nil, resumable: true)
                    try context.finishing {
                        _ = try SelectionBuildRunner.run(c, context: context, tableVersion: tableVersion,
                                                         count: SelectionBuildRunner.monteCarlo(population, draws: c.draws, seed: c.seed))
                    }
                }
            }
        }
    }

    /// `tessera lenses mock`: a documented mock lens catalog.
    struct Lenses: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mock strong-lens catalogs.",
            subcommands: [Mock.self])

        struct Mock: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Draw a mock lens population and write it as RUN/lenses.h5 (layout: README \"Mock lens catalogs\").",
                discussion: """
                Draws lenses from the configuration's η and survey until `lenses` are selected; each image \
                gets microlensing drawn from the magnification table's PDF at its (κ, γ, s). Keys for \
                --config: `tessera config lenses`.

                  tessera lenses mock --config population.yaml --out runs/lenses
                """)

            @Option(help: "YAML configuration (optional; the defaults otherwise).") var config: String?
            @Option(help: "Run directory to create.") var out: String

            func run() throws {
                try MPIExecution.run { comm in
                    let c = try config.map { try ConfigLoader.load(LensPopulationConfiguration.self, from: $0, communicator: comm) }
                        ?? LensPopulationConfiguration()
                    let (population, tableVersion) = try c.population()
                    let context = try RunContext.start(command: "lenses mock", configuration: c, output: out, seed: c.seed,
                                                       inputs: config.map { [$0] } ?? [], sharedInputs: [c.table],
                                                       tableVersion: tableVersion, libraries: LibraryInfo.versions(), communicator: comm)
                    try context.finishing {
                        if comm.isRoot {
                            let path = context.file(MockLensCatalogFile.name)
                            let (lenses, drawn) = try MockLensCatalogFile.mock(population, count: c.lenses, seed: c.seed, to: path,
                                                                               magnificationTableVersion: tableVersion,
                                                                               gitCommit: context.run?.metadata.gitCommit ?? "unknown")
                            print("lenses mock: wrote \(lenses) lenses (\(drawn) drawn) to \(path)")
                        }
                    }
                }
            }
        }
    }
}
