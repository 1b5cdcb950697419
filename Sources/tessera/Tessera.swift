import ArgumentParser
import TesseraSupport

/// The `tessera` command. Subcommands are thin: parse arguments, call a library, print.
@main
struct Tessera: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "MPI-parallel Bayesian fitting of astronomical images and lensing data.",
        discussion: """
        Start multi-rank commands with mpirun or srun, e.g.
          mpirun -np 4 tessera selftest --out runs/selftest
        Every command that produces results writes a run directory with params.json (the resolved
        configuration) and metadata.json (code version, hosts, inputs, timing); `tessera reproduce`
        repeats such a run.
        """,
        version: TesseraVersion.string,
        subcommands: [Info.self, SelfTest.self, Reproduce.self, ConfigTemplate.self]
    )
}
