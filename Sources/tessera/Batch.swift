import ArgumentParser
import BatchRuns
import Foundation
import RunKit
import SystemPackage
import TesseraMPI
import TesseraRun

extension Tessera {
    /// ngmixer's megamixer for Tessera: a tile list cut into chunks of whole friends-of-friends
    /// groups, run as a SLURM job array (or locally), verified, collated and archived.
    struct Batch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Survey batch runs over MEDS or pixel-store tiles: setup, run (sbatch or local mpirun), verify, collate, link, archive.",
            discussion: """
            A run directory RUN holds one folder per tile with its neighbour and group tables and one \
            folder per chunk (manifest, run.sh for mpirun, job.sbatch); RUN/array.sbatch is the SLURM \
            job array over all chunks. Paths inside RUN are relative, so RUN can be moved. Typical use:

              tessera batch setup run.yaml tiles/*.fits --out RUN
              tessera batch run RUN          # sbatch where SLURM is present, else each chunk here
              tessera batch verify RUN       # lists missing, failed, incomplete chunks
              tessera batch run RUN --resubmit
              tessera batch collate RUN && tessera batch link RUN && tessera batch archive RUN

            Keys for RUNCONFIG: `tessera config batch` (`tessera config batch-fit` and `tessera config batch-input` for its fit and input sections).
            """,
            subcommands: [Setup.self, Run.self, Verify.self, Collate.self, Link.self, Archive.self, Chunk.self])

        struct Setup: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Plan a batch run: neighbours, friends-of-friends groups and chunks of whole groups per tile, with job scripts.",
                discussion: "Every tile is read and checked before anything is written; a missing or broken tile, or an object with no cutouts, stops the setup with no run directory left behind.")

            @Argument(help: "Run configuration (YAML; `tessera config batch`).") var runConfig: String
            @Argument(help: "MEDS files or pixel stores (.h5, with input.catalog and input.psf_store), one per tile.") var tiles: [String]
            @Option(help: "Run directory to create.") var out: String

            func run() throws {
                try failing {
                    var c = try ConfigLoader.load(BatchConfiguration.self, from: runConfig)
                    c.input = c.input.resolvingPaths()
                    let extra = try BatchSetup.extraCommands(c.extraCommands)
                    let plans = try BatchSetup.plan(c, tiles: tiles)
                    try MPIExecution.run { comm in
                        let context = try RunContext.start(command: "batch setup", configuration: c, output: out, seed: c.seed,
                                                           inputs: [runConfig] + tiles, libraries: LibraryInfo.versions(), communicator: comm)
                        try context.finishing {
                            if comm.isRoot {
                                _ = try BatchSetup.write(c, plans: plans, run: context.directory,
                                                         tessera: RunPaths.resolvedExecutable(CommandLine.arguments.first ?? "tessera"),
                                                         extraCommands: extra)
                            }
                        }
                    }
                }
            }
        }

        struct Run: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run a batch: one SLURM job array (sbatch) where SLURM is present, otherwise every chunk here with mpirun.",
                discussion: "Local runs log to RUN/logs/chunk-<i>.log; SLURM runs to RUN/logs/<job>_<task>.log. A chunk stopped part-way resumes where it stopped when run again.")

            @Argument(help: "The batch run directory.") var runDirectory: String
            @Flag(help: "Run the chunks here even if sbatch is available.") var local = false
            @Flag(help: "Only the chunks `tessera batch verify` listed in RUN/resubmit.txt.") var resubmit = false
            @Flag(help: "With SLURM: return when every array task has ended (sbatch --wait).") var wait = false

            func run() throws {
                try failing {
                    let run = RunPaths.absolute(runDirectory)
                    let indices = try BatchSubmit.selection(run: run, resubmit: resubmit)
                    if !local, let sbatch = BatchSubmit.sbatchPath() {
                        _ = try BatchSubmit.submitArray(run: run, indices: indices, wait: wait, sbatch: sbatch)
                    } else {
                        print("batch run: \(local ? "--local" : "no sbatch on PATH"): running \(indices.count) chunk(s) here")
                        let failed = try BatchSubmit.runLocally(run: run, indices: indices)
                        if !failed.isEmpty {
                            throw BatchError(file: run, detail: "\(failed.count) chunk(s) failed: \(failed.map(String.init).joined(separator: ", ")); see RUN/logs, then `tessera batch verify`")
                        }
                    }
                }
            }
        }

        struct Verify: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List missing, failed and incomplete chunks and write RUN/resubmit.txt; exit status 1 unless all are complete.")

            @Argument(help: "The batch run directory.") var runDirectory: String

            func run() throws {
                let complete = try failing { () -> Bool in
                    let run = RunPaths.absolute(runDirectory)
                    let reports = try BatchStatus.check(run: run)
                    print(try BatchStatus.writeResubmitList(reports, run: run))
                    return reports.allSatisfy { $0.state == .complete }
                }
                if !complete { throw ExitCode.failure }
            }
        }

        struct Collate: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Join each tile's chunk catalogs into RUN/<tile>/<tile>-catalog.fits; refuses an incomplete tile unless told.")

            @Argument(help: "The batch run directory.") var runDirectory: String
            @Flag(help: "Collate the complete chunks of incomplete tiles too (the header says INCOMPL = T).") var allowIncomplete = false

            func run() throws {
                try failing { _ = try BatchCollate.collate(run: RunPaths.absolute(runDirectory), allowIncomplete: allowIncomplete) }
            }
        }

        struct Link: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Link every collated tile catalog into RUN/output.")
            @Argument(help: "The batch run directory.") var runDirectory: String
            func run() throws { try failing { _ = try BatchCollate.link(run: RunPaths.absolute(runDirectory)) } }
        }

        struct Archive: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Put the run's logs into RUN/logs.tar.gz.")
            @Argument(help: "The batch run directory.") var runDirectory: String
            func run() throws { try failing { _ = try BatchCollate.archive(run: RunPaths.absolute(runDirectory)) } }
        }

        struct Chunk: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Fit one chunk (what the job scripts run, under mpirun): its groups across MPI ranks, resumable.",
                discussion: "Writes CHUNK_DIR/fit (a run directory): groups/group-<row>.json as each group finishes, then catalog.fits. Run it again after a stop to resume.")

            @Argument(help: "The chunk directory (holding chunk.json).") var chunkDirectory: String

            func run() throws {
                try MPIExecution.run { comm in
                    let dir = RunPaths.absolute(chunkDirectory)
                    let m = try ConfigLoader.load(ChunkManifest.self, from: FilePath(dir).appending(BatchLayout.manifestFile).string,
                                                  communicator: comm)
                    let out = FilePath(dir).appending(BatchLayout.fitDirectory).string
                    let resume = FileManager.default.fileExists(atPath: FilePath(out).appending(RunDirectory.metadataFile).string)
                    let context = try RunContext.start(command: "batch chunk", configuration: m, output: out, seed: m.seed,
                                                       inputs: resume ? [] : [m.meds], sharedInputs: [m.meds],
                                                       libraries: LibraryInfo.versions(), communicator: comm, resume: resume)
                    try context.finishing { _ = try ChunkRunner.run(m, context: context) }
                }
            }
        }
    }
}
