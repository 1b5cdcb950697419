/// The shell scripts of a batch run: a SLURM job array over all chunks, and per chunk a plain
/// script for workstations (`run.sh`, which the SLURM scripts also call) and a one-chunk
/// `job.sbatch` for resubmitting a single chunk by hand.
///
/// Every path in them is relative (the array runs with `--chdir=RUN`, `run.sh` changes to its
/// own directory), so a run directory can be moved. The tessera binary is the one that ran
/// `batch setup` unless `TESSERA` is set; `mpirun` arguments can be added with `MPIRUN_ARGS`.
public enum BatchScripts {
    /// `RUN/array.sbatch`: task i runs the chunk on line i+1 of `chunks.txt`.
    public static func array(runName: String, chunkCount: Int, config c: BatchConfiguration, extraCommands: [String]) -> String {
        var lines = [
            "#!/usr/bin/env bash",
            "# Tessera batch run \(runName): a SLURM job array over its \(chunkCount) chunks (task i = line i+1 of chunks.txt).",
            "# Submitted by `tessera batch run RUN` as: sbatch --chdir=RUN --array=0-\(chunkCount - 1) RUN/array.sbatch",
        ]
        lines += sbatchHeader(name: "tessera-\(runName)", output: "\(BatchLayout.logsDirectory)/%A_%a.log", config: c)
        lines += ["", "set -euo pipefail"] + extraBlock(extraCommands) + [
            "chunk=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" \(BatchLayout.chunkListFile))",
            "[ -n \"$chunk\" ] || { echo \"no chunk for array task $SLURM_ARRAY_TASK_ID in \(BatchLayout.chunkListFile)\" >&2; exit 2; }",
            "echo \"tessera batch: array task $SLURM_ARRAY_TASK_ID -> $chunk on $(hostname)\"",
            "exec bash \"$chunk/run.sh\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `RUN/<tile>/chunk-NNNN/run.sh`: the chunk under mpirun with `ranks_per_chunk` ranks (or
    /// SLURM's task count inside a job).
    public static func chunk(manifest m: ChunkManifest, tessera: String, extraCommands: [String]) -> String {
        let n = m.objects.count
        var lines = [
            "#!/usr/bin/env bash",
            "# Tessera batch: chunk \(m.index) of tile \(m.tile), \(n) objects in \(m.groups.count) groups, fitter \(m.batch.fitter).",
            "# Run from anywhere: bash \(BatchLayout.chunkDirectory(tile: m.tile, index: m.index))/run.sh",
            "# (a stopped chunk resumes where it stopped). TESSERA, RANKS and MPIRUN_ARGS override the defaults.",
            "set -euo pipefail",
            "cd \"$(dirname \"$0\")\"",
        ]
        lines += extraBlock(extraCommands) + [
            "TESSERA=${TESSERA:-\(shellQuoted(tessera))}",
            "RANKS=${RANKS:-${SLURM_NTASKS:-\(m.batch.ranksPerChunk)}}",
            "if [ \"$RANKS\" -gt 1 ]; then",
            "  # shellcheck disable=SC2086",
            "  exec mpirun -np \"$RANKS\" ${MPIRUN_ARGS:-} \"$TESSERA\" batch chunk .",
            "else",
            "  exec \"$TESSERA\" batch chunk .",
            "fi",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// `RUN/<tile>/chunk-NNNN/job.sbatch`: this chunk alone (`cd` there and `sbatch job.sbatch`).
    public static func chunkJob(manifest m: ChunkManifest, extraCommands: [String]) -> String {
        let c = m.batch
        var lines = [
            "#!/usr/bin/env bash",
            "# Tessera batch: chunk \(m.index) of tile \(m.tile) as a single SLURM job. Submit from this directory: sbatch job.sbatch",
        ]
        lines += sbatchHeader(name: "tessera-\(m.tile)-\(m.index)", output: "job-%j.log", config: c)
        lines += ["", "set -euo pipefail"] + extraBlock(extraCommands) + ["exec bash run.sh"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The #SBATCH lines every script shares: one task per rank, the time limit, partition and account.
    static func sbatchHeader(name: String, output: String, config c: BatchConfiguration) -> [String] {
        var lines = ["#SBATCH --job-name=\(name)", "#SBATCH --ntasks=\(c.ranksPerChunk)", "#SBATCH --cpus-per-task=1",
                     "#SBATCH --time=\(c.slurmTime)", "#SBATCH --output=\(output)"]
        if !c.slurmPartition.isEmpty { lines.append("#SBATCH --partition=\(c.slurmPartition)") }
        if !c.slurmAccount.isEmpty { lines.append("#SBATCH --account=\(c.slurmAccount)") }
        return lines
    }

    static func extraBlock(_ lines: [String]) -> [String] {
        lines.isEmpty ? [] : ["# extra_commands:"] + lines + ["# end of extra_commands"]
    }

    /// `s` in single quotes for the shell.
    static func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
