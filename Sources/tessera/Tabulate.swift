import ArgumentParser
import Foundation
import LensingRuns
import RunKit
import TesseraMPI
import TesseraRun

extension Tessera {
    struct Tabulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tabulate microlensing magnification distributions over a (κ, γ, s) grid across MPI ranks.",
            discussion: """
            Rank 0 hands grid cells to the other ranks (cells differ greatly in cost), saves each \
            cell's distributions as it arrives, and all ranks write one parallel HDF5 table at the \
            end (DIR/table.h5). A killed run continues with --resume DIR, computing only the \
            missing cells. Keys for --grid: `tessera config tabulate`.

              mpirun -np 8 tessera tabulate --grid grid.yaml --out data/tables/example
            """)

        @Option(help: "Grid configuration (YAML or a previous run's params.json).")
        var grid: String?

        @Option(help: "Run directory (default: data/tables/<sim_id>).")
        var out: String?

        @Option(help: "Continue the tabulation in this run directory (its params.json is the grid).")
        var resume: String?

        // `reproduce` passes the recorded configuration as --config.
        @Option(help: .hidden)
        var config: String?

        func run() throws {
            try MPIExecution.run { comm in
                let gridFile = try configurationFile(resume: resume, given: grid ?? config, option: "--grid", others: [out])
                let configuration = try ConfigLoader.load(TableGridConfiguration.self, from: gridFile, communicator: comm)
                let directory = resume ?? out ?? "data/tables/\(configuration.simId)"
                let context = try RunContext.start(
                    command: "tabulate", configuration: configuration, output: directory, seed: configuration.seed,
                    inputs: resume == nil ? [gridFile] : [], tableVersion: configuration.tableVersion,
                    libraries: LibraryInfo.versions(), communicator: comm, resume: resume != nil, resumable: true)
                try context.finishing {
                    let summary = try TabulationRunner.run(configuration, context: context) { cell in
                        try TableCellComputer.compute(cell, configuration: configuration,
                                                      mapDirectory: configuration.keepMaps ? context.file("maps") : nil)
                    }
                    if !summary.failed.isEmpty { throw TabulationIncomplete(failedCells: summary.failed) }
                }
                if comm.isRoot { ReportHook.write(context.directory) }
            }
        }
    }
}
