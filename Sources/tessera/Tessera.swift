import ArgumentParser
import TesseraSupport

/// The `tessera` command. Subcommands are thin: parse arguments, call a library, print.
@main
struct Tessera: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "MPI-parallel Bayesian fitting of astronomical images and lensing data.",
        discussion: """
        Every command that produces results writes a run directory holding params.json (the \
        resolved configuration) and metadata.json (code version, hosts, inputs, timing); \
        `tessera reproduce RUN_DIR` repeats such a run. Start multi-rank commands with mpirun or srun:

          mpirun -np 4 tessera selftest --out runs/selftest
        """,
        version: TesseraVersion.string,
        groupedSubcommands: Self.groups
    )

    /// The commands by domain, as `tessera --help` lists them: what a user looks for first is the
    /// kind of data they have, then the step.
    static let groups: [CommandGroup] = [
        CommandGroup(name: "Scene fitting", subcommands: [Demo.self, MockScene.self, FitPSF.self, Preprocess.self,
                                                          Optimize.self, Sample.self, Postprocess.self, SersicTable.self]),
        CommandGroup(name: "Lensing", subcommands: [MagMap.self, Tabulate.self, TableQuery.self, Lenses.self, Selection.self, Infer.self]),
        CommandGroup(name: "Clusters", subcommands: [Clusters.self]),
        CommandGroup(name: "Survey batches", subcommands: [Meds.self, Batch.self]),
        CommandGroup(name: "Runs", subcommands: [Report.self, Reproduce.self, ConfigTemplate.self, Info.self, SelfTest.self]),
    ]
}
