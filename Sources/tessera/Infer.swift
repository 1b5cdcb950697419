import ArgumentParser
import Foundation
import LensingRuns
import RunKit
import SystemPackage
import TesseraMPI
import TesseraRun

extension Tessera {
    struct Infer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hierarchical strong-lens inference: NUTS over the population hyperparameters and every lens's parameters.",
            discussion: """
            Stage 1 samples each lens's posterior under a broad interim prior with NUTS, lenses spread over the \
            worker ranks and checkpointed one file per lens; stage 2 samples η = (α_sps, halo slope, halo \
            normalisation, halo scatter) with NUTS on the importance-reweighted lens samples and the selection \
            term −N ln A(η), several chains from dispersed starts; stage 3 draws each lens's parameters given \
            each η draw. Writes <output_root>/<sim_id>/<run_id>/ (or --out) with chains.h5, summary.json \
            (split R̂, ESS, separated modes and their weights), catalog.json, selection.json, params.json, \
            metadata.json (git commit, sim_id, table_version, selection-table version) and report.html. A killed run \
            continues with --resume DIR; a table or selection table whose version differs from the one \
            recorded is refused. Keys: `tessera config infer`.

              mpirun -np 4 tessera infer --config examples/infer-small.yaml
            """)

        @OptionGroup var options: ResumableRunOptions

        func run() throws {
            try MPIExecution.run { comm in
                let file = try options.configFile()
                let loaded = try ConfigLoader.load(InferConfiguration.self, from: file, communicator: comm)
                // Rank 0 resolves the run name and the versions (recorded in params.json), and everyone uses its choice.
                let mine = comm.isRoot ? Result { try resolve(loaded) } : nil
                let outcome: ResolveOutcome = try comm.broadcast(message: mine.map {
                    switch $0 {
                    case .success(let c): ResolveOutcome(configuration: c, error: nil)
                    case .failure(let e): ResolveOutcome(configuration: nil, error: "\(e)")
                    }
                })
                guard let resolved = outcome.configuration else { throw InferResolveError(message: outcome.error ?? "") }
                let directory = options.resume ?? options.out
                    ?? FilePath(resolved.outputRoot).appending(resolved.simId).appending(resolved.runId).string
                let context = try RunContext.start(
                    command: "infer", configuration: resolved, output: directory, seed: resolved.seed,
                    inputs: options.inputs([file, resolved.table] + (resolved.catalog.isEmpty ? [] : [resolved.catalog])
                                           + (resolved.selectionFile.isEmpty ? [] : [resolved.selectionFile])),
                    sharedInputs: [resolved.table] + (resolved.selectionFile.isEmpty ? [] : [resolved.selectionFile]), tableVersion: resolved.tableVersion, simId: resolved.simId,
                    selectionTableVersion: resolved.selectionVersion, libraries: LibraryInfo.versions(), communicator: comm,
                    resume: options.resume != nil, resumable: true)
                try context.finishing {
                    _ = try InferRunner.run(resolved, context: context)
                }
                if comm.isRoot { ReportHook.write(context.directory) }
            }
        }

        /// Absolute paths, the run name, and the table and selection versions filled in.
        func resolve(_ c: InferConfiguration) throws -> InferConfiguration {
            var r = c
            r.table = RunPaths.absolute(c.table)
            if !c.catalog.isEmpty { r.catalog = RunPaths.absolute(c.catalog) }
            if r.runId.isEmpty {
                let f = DateFormatter()
                f.locale = Locale(identifier: "en_US_POSIX")
                f.timeZone = TimeZone(identifier: "UTC")
                f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
                r.runId = f.string(from: Date())
            }
            let found = try InferInputs.tableVersion(of: r.table)
            try InferInputs.checkVersion(file: r.table, what: "table_version", found: found, expected: c.tableVersion)
            r.tableVersion = found
            if !c.selectionFile.isEmpty {
                // The file's own version, checked against an expected one and against this table's version.
                // Checked here, on rank 0 before the run directory exists, so a mismatched file writes nothing.
                r.selectionFile = RunPaths.absolute(c.selectionFile)
                let record = try SelectionTableFile.read(r.selectionFile, magnificationTableVersion: found,
                                                         selectionVersion: c.selectionVersion.isEmpty ? nil : c.selectionVersion)
                try InferRunner.checkSelectionRecipe(record, r, path: r.selectionFile)
                r.selectionVersion = record.selection.version
                return r
            }
            let computed = try InferRunner.selectionVersion(r)
            try InferInputs.checkVersion(file: "selection_axes", what: "selection-table version", found: computed,
                                         expected: c.selectionVersion)
            r.selectionVersion = computed
            return r
        }
    }
}

/// Rank 0's resolution of an infer configuration, sent to every rank (so a bad table fails every rank at once).
struct ResolveOutcome: Codable {
    var configuration: InferConfiguration?
    var error: String?
}

/// Rank 0 could not resolve the configuration (its message names the file).
struct InferResolveError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
