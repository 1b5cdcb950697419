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
        subcommands: [Info.self, SelfTest.self, MagMap.self, Tabulate.self, TableQuery.self, Clusters.self, MockScene.self, Preprocess.self, Optimize.self, Sample.self, Postprocess.self, Demo.self, Meds.self, SersicTable.self, FitPSF.self, Reproduce.self, ConfigTemplate.self]
    )
}
