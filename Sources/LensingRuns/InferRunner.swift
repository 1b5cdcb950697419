import Foundation
import HaloProfiles
import Inference
import LensInference
import RunKit
import SystemPackage
import TesseraMPI
import TesseraRun
import TesseraSupport
import WorkQueue

/// What an inference run did, for the log and the tests.
public struct InferSummary: Sendable {
    public var lenses: Int
    public var lensesAlreadyDone: Int
    public var chainsAlreadyDone: Int
    public var chainsFile: String
    public var report: InferReport
}

/// `tessera infer`: the hierarchical strong-lens inference, in three stages over the master/worker engine.
///
/// 1. Each lens's posterior under a broad interim prior by NUTS (`InferStages.sampleLens`), lenses handed out to
///    the worker ranks, each result checkpointed on rank 0 as `lenses/lens-NNNNN.json` the moment it arrives.
///    This is where the cost is (finite-difference lens-likelihood gradients, ~2 ms each with tracked images).
/// 2. NUTS over η = (α_sps, halo slope, normalisation, scatter) on the importance-reweighted population density
///    with the selection term (`ReweightedPopulation`; analytic gradients), several chains from dispersed starts,
///    one chain per work item, checkpointed as `chains/chain-NNN.json`.
/// 3. On rank 0: per-lens parameters drawn from their conditionals given each η draw; `chains.h5`, `summary.json`
///    (split R̂, ESS, separated modes and their weights per η parameter) written atomically.
///
/// Why not one joint NUTS over η and every lens's parameters: its gradient needs every lens's finite-difference
/// gradient (50 lenses × ~2 ms ≈ 0.1 s), and NUTS needs ~10–100 gradients per draw,
/// so thousands of draws cost hours per chain; here each lens's costly posterior is computed once, in parallel, and
/// the population is sampled on the cached samples in milliseconds per gradient.
///
/// A killed run resumed (`--resume`) skips the lenses and chains with a checkpoint; since every random stream
/// depends only on the seed and the item (see `InferStages`), the result equals an unkilled run's bit for bit.
public enum InferRunner {
    public static let lensDirectory = "lenses"
    public static let chainDirectory = "chains"

    /// Collective: every rank calls it with the same configuration (its versions already resolved).
    public static func run(_ c: InferConfiguration, context: RunContext, log: @escaping (String) -> Void = { print($0) }) throws -> InferSummary {
        let comm = context.communicator
        let cosmology = try InferInputs.cosmology()
        let (microlensing, tableVersion) = try InferInputs.loadTable(c.table, expectedVersion: c.tableVersion)

        // The catalog: the run directory's copy when resuming, else the configured one (drawn on every rank; a mock
        // draw is deterministic), saved by rank 0.
        let catalogPath = context.file("catalog.json")
        let catalog: MockLensCatalog
        if FileManager.default.fileExists(atPath: catalogPath) {
            catalog = try InferInputs.catalog(with(c) { $0.catalog = catalogPath }, microlensing: microlensing, cosmology: cosmology)
        } else {
            catalog = try InferInputs.catalog(c, microlensing: microlensing, cosmology: cosmology)
            if comm.isRoot { try RunDirectory.writeJSON(catalog, to: catalogPath) }
        }

        // The selection table: the run directory's copy (checked against the recorded version) or built now.
        let selection = try selectionTable(c, tableVersion: tableVersion, microlensing: microlensing, cosmology: cosmology,
                                           context: context, log: log)

        // Stage 1.
        let lensStore = JSONCheckpointDirectory<Int, InferStages.LensSamples>(
            directory: context.file(lensDirectory), itemName: "lens", prefix: "lens-", digits: 5)
        var lensScheduler = try ResumableListScheduler(items: comm.isRoot ? Array(catalog.lenses.indices) : [], store: lensStore,
                                                       maxAttempts: c.maxAttempts, key: { $0 },
                                                       label: { catalog.lenses[$0].id })
        if comm.isRoot {
            log("infer: \(catalog.lenses.count) lenses, \(lensScheduler.alreadyDone) already done, \(lensScheduler.pending) to sample on \(max(comm.size - 1, 1)) worker(s)")
        }
        var progress = ProgressLine(label: "infer: lenses", total: lensScheduler.pending)
        try WorkQueue.run(communicator: comm, scheduler: &lensScheduler, progress: { progress.update(done: $0.completed, elapsed: $0.elapsed) }) { i in
            try InferStages.sampleLens(index: i, lens: catalog.lenses[i], c: c, microlensing: microlensing, cosmology: cosmology)
        }
        try failIfAny(comm.isRoot ? lensScheduler.failures.map { "lens \(catalog.lenses[$0.item].id): \($0.message)" } : [], comm: comm)

        // Stage 2: everyone gets the stage-1 samples from rank 0's checkpoints.
        var loaded: [InferStages.LensSamples]?
        if comm.isRoot {
            loaded = try catalog.lenses.indices.map { i in
                guard let s = try lensStore.load(i) else { throw InferInputError(file: lensStore.path(for: i), message: "missing lens checkpoint") }
                return s
            }
        }
        var lensSamples: [InferStages.LensSamples] = try comm.broadcast(message: loaded)

        // Stage 2, then refinement rounds: while the Monte Carlo variance of ln p(η | data) at the median η is above
        // monte_carlo_target, or some lens's chains mixed poorly, those lenses and the ones that carry most of the
        // variance get another stage-1 chain each (checkpoints in lenses-round-k/) and stage 2 runs again
        // (chains-round-k/), up to refine_rounds times. Every decision is a function of checkpoints, so a
        // resumed run takes the same rounds.
        var round = 0, chainsAlreadyDone = 0
        var population: ReweightedPopulation
        var chainStore: JSONCheckpointDirectory<Int, InferStages.EtaChain>
        while true {
            population = try InferStages.population(lensSamples, selection: selection, c: c)
            chainStore = JSONCheckpointDirectory<Int, InferStages.EtaChain>(
                directory: context.file(round == 0 ? chainDirectory : chainDirectory + "-round-\(round)"), itemName: "chain",
                prefix: "chain-", digits: 3)
            var chainScheduler = try ResumableListScheduler(items: comm.isRoot ? Array(0..<c.chains) : [], store: chainStore,
                                                            maxAttempts: c.maxAttempts, key: { $0 }, label: { "chain \($0)" })
            if comm.isRoot {
                log("infer: \(c.chains) η chains\(round == 0 ? "" : " (refinement round \(round))"), \(chainScheduler.alreadyDone) already done")
            }
            let etaPopulation = population
            try WorkQueue.run(communicator: comm, scheduler: &chainScheduler) { chain in
                try InferStages.sampleEta(chain: chain, population: etaPopulation, c: c)
            }
            try failIfAny(comm.isRoot ? chainScheduler.failures.map { "chain \($0.item): \($0.message)" } : [], comm: comm)
            chainsAlreadyDone = chainScheduler.alreadyDone
            guard round < c.refineRounds else { break }

            // The lenses to sample again, decided on rank 0 from the chains' median η.
            var picked: [Int]?
            if comm.isRoot {
                let chains = try loadChains(chainStore, count: c.chains)
                let variances = population.monteCarloVariances(eta: InferReport.medians(chains))
                let total = variances.reduce(0) { $0 + ($1.isFinite ? $1 : 0) }
                let poorlyMixed = lensSamples.indices.filter {
                    InferReport.mixedPoorly(rHatAlpha: lensSamples[$0].rHatAlpha, essAlpha: lensSamples[$0].essAlpha)
                }
                picked = InferStages.refinementPicks(variances: variances, target: c.monteCarloTarget, poorlyMixed: poorlyMixed)
                log("infer: Monte Carlo variance of ln p(η | data) at the median η \(String(format: "%.2f", total)) (target "
                    + "\(c.monteCarloTarget))" + (picked!.isEmpty ? "" : "; refinement round \(round + 1) samples \(picked!.count) lenses "
                    + "again: " + picked!.map { catalog.lenses[$0].id }.joined(separator: ", ")))
            }
            let picks: [Int] = try comm.broadcast(message: picked)
            if picks.isEmpty { break }
            round += 1
            let thisRound = round, previous = lensSamples
            let roundStore = JSONCheckpointDirectory<Int, InferStages.LensSamples>(
                directory: context.file(lensDirectory + "-round-\(round)"), itemName: "lens", prefix: "lens-", digits: 5)
            var roundScheduler = try ResumableListScheduler(items: comm.isRoot ? picks : [], store: roundStore, maxAttempts: c.maxAttempts,
                                                            key: { $0 }, label: { catalog.lenses[$0].id })
            var roundProgress = ProgressLine(label: "infer: refinement round \(round) lenses", total: roundScheduler.pending)
            try WorkQueue.run(communicator: comm, scheduler: &roundScheduler,
                              progress: { roundProgress.update(done: $0.completed, elapsed: $0.elapsed) }) { i in
                // From `LensStart`'s start (the first chain's, unless that came from an older search), its own stream. A
                // lens whose first chain never moved starts where its replacement did: `LensStart.find` would lead the
                // new chain back to the stuck start, and only a wasted chain later to this one.
                try InferStages.sampleLens(index: i, lens: catalog.lenses[i], c: c, microlensing: microlensing, cosmology: cosmology,
                                           from: previous[i].abandonedStart == nil ? nil : previous[i].start,
                                           round: thisRound, slope: previous[i].alphaConditional?.slope)
            }
            try failIfAny(comm.isRoot ? roundScheduler.failures.map { "lens \(catalog.lenses[$0.item].id): \($0.message)" } : [], comm: comm)
            var merged: [InferStages.LensSamples]?
            if comm.isRoot {
                var all = lensSamples
                for i in picks {
                    guard let extra = try roundStore.load(i) else {
                        throw InferInputError(file: roundStore.path(for: i), message: "missing lens checkpoint")
                    }
                    all[i] = InferStages.merged(all[i], extra)
                }
                merged = all
            }
            lensSamples = try comm.broadcast(message: merged)
        }

        // Stage 3 and the files, on rank 0.
        var summary: InferSummary?
        if comm.isRoot {
            let chains = try loadChains(chainStore, count: c.chains)
            let report = InferReport.make(chains: chains, lenses: lensSamples, population: population,
                                          truth: catalog.hyperparameters.inferred)
            let path = context.file(InferenceChainsFile.name)
            try InferenceChainsFile.write(chains: chains, lenses: lensSamples, population: population, seed: c.seed,
                                          simId: c.simId, tableVersion: tableVersion, selectionVersion: selection.version,
                                          microlensing: c.microlensing, to: path)
            try RunDirectory.writeJSON(report, to: context.file("summary.json"))
            for line in report.lines { log("infer: " + line) }
            log("infer: wrote \(path)")
            summary = InferSummary(lenses: catalog.lenses.count, lensesAlreadyDone: lensScheduler.alreadyDone,
                                   chainsAlreadyDone: chainsAlreadyDone, chainsFile: path, report: report)
        }
        try comm.barrier()
        return summary ?? InferSummary(lenses: catalog.lenses.count, lensesAlreadyDone: 0, chainsAlreadyDone: 0,
                                       chainsFile: context.file(InferenceChainsFile.name), report: InferReport())
    }

    /// The η chains of one stage-2 round from their checkpoints (rank 0).
    static func loadChains(_ store: JSONCheckpointDirectory<Int, InferStages.EtaChain>, count: Int) throws -> [InferStages.EtaChain] {
        try (0..<count).map { k in
            guard let r = try store.load(k) else { throw InferInputError(file: store.path(for: k), message: "missing chain checkpoint") }
            return r
        }
    }

    /// The selection normalisation: the configured `selection_file` (refused if its selection or magnification-table
    /// version differs from the recorded ones), else `selection.json` in the run directory if present (refused if its
    /// version differs from the configuration's), else the grid built across the ranks and saved there.
    static func selectionTable(_ c: InferConfiguration, tableVersion: String, microlensing: MicrolensedFlux,
                               cosmology: Cosmology, context: RunContext, log: (String) -> Void) throws -> any SelectionNormalisation {
        if !c.selectionFile.isEmpty {
            // Its recipe was checked when the configuration was resolved (`checkSelectionRecipe`, before the run
            // directory exists); the load checks the versions the resolution recorded.
            let selection = try SelectionTableFile.load(c.selectionFile, magnificationTableVersion: tableVersion,
                                                        selectionVersion: c.selectionVersion.isEmpty ? nil : c.selectionVersion)
            if context.communicator.isRoot {
                log("infer: selection normalisation \(selection.version) from \(c.selectionFile) (\(selection.nodes.count) nodes)")
            }
            return selection
        }
        let comm = context.communicator
        let path = context.file("selection.json")
        if FileManager.default.fileExists(atPath: path) {
            let table: SelectionTable
            do { table = try JSONDecoder().decode(SelectionTable.self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
                throw InferInputError(file: path, message: "not a selection table: \(error)")
            }
            try InferInputs.checkVersion(file: path, what: "selection-table version", found: table.version, expected: c.selectionVersion)
            return table
        }
        let population = try MockPopulation(hyperparameters: PopulationHyperparameters(), survey: survey(c), cosmology: cosmology,
                                            microlensing: microlensing)
        var withTable = c
        withTable.tableVersion = tableVersion
        let version = try selectionVersion(withTable)
        try InferInputs.checkVersion(file: "selection_axes", what: "selection-table version", found: version, expected: c.selectionVersion)
        let start = Date()
        let table = try InferInputs.buildSelection(axes: c.selectionAxes, draws: c.selectionDraws, seed: c.selectionSeed,
                                                   population: population, version: version, communicator: comm)
        if comm.isRoot {
            try RunDirectory.writeJSON(table, to: path)
            log("infer: selection table \(version) (\(table.logA.count) nodes × \(c.selectionDraws) draws) in "
                + String(format: "%.1f s", Date().timeIntervalSince(start)))
        }
        return table
    }

    /// Part of resolving an infer configuration with a `selection_file` (rank 0, before the run starts).
    /// Refuses a selection file computed for another survey, other fixed hyperparameters or another cosmology than
    /// this run's mocks and likelihood use: its A(η) would be the selection of a different experiment, and no version
    /// string would show it.
    public static func checkSelectionRecipe(_ record: SelectionTableFile.Record, _ c: InferConfiguration, path: String) throws {
        let built: LensPopulationConfiguration
        do { built = try JSONDecoder().decode(LensPopulationConfiguration.self, from: Data(record.configurationJSON.utf8)) } catch {
            throw InferInputError(file: path, message: "its configuration attribute cannot be read (\(error))")
        }
        let ours = try InferInputs.cosmology(), theirs = try built.cosmology()
        var fixed = built.hyperparameters
        fixed.inferred = PopulationHyperparameters().inferred
        var differences: [String] = []
        if built.survey != survey(c) { differences.append("survey settings") }
        if fixed != PopulationHyperparameters() { differences.append("fixed hyperparameters (M_sps distribution, size relation, pivot)") }
        if (theirs.H0, theirs.omegaCDM, theirs.omegaBaryon) != (ours.H0, ours.omegaCDM, ours.omegaBaryon) { differences.append("cosmology") }
        if !differences.isEmpty {
            throw InferInputError(file: path, message: "selection normalisation built for other \(differences.joined(separator: ", ")) than this run's; rebuild it with matching settings")
        }
        let box = record.selection.box
        try InferConfiguration.checkInterimAlpha(c.interimAlpha, covers: box.lower[0]...box.upper[0], kernelWidth: c.alphaKernelWidth,
                                                 what: "the α range of \(path)")
    }

    /// The survey settings of mocks and selection: `SurveySettings` defaults with the configured source size.
    public static func survey(_ c: InferConfiguration) -> SurveySettings {
        var s = SurveySettings()
        s.sourceSize = c.sourceSize
        return s
    }

    /// The version of the selection table the configuration gives (its table_version must be resolved).
    public static func selectionVersion(_ c: InferConfiguration) throws -> String {
        try InferInputs.selectionVersion(axes: c.selectionAxes, draws: c.selectionDraws, seed: c.selectionSeed,
                                         survey: survey(c), fixed: PopulationHyperparameters(), tableVersion: c.tableVersion)
    }

    /// Throws on every rank if rank 0 lists failures.
    static func failIfAny(_ failures: [String], comm: Communicator) throws {
        let list: [String] = try comm.broadcast(message: comm.isRoot ? failures : nil)
        if !list.isEmpty {
            throw InferIncomplete(failures: list)
        }
    }

    static func with<T>(_ value: T, _ change: (inout T) -> Void) -> T {
        var v = value
        change(&v)
        return v
    }
}

/// Some lenses or chains failed every attempt; their checkpoints are missing and `--resume` retries them.
public struct InferIncomplete: Error, CustomStringConvertible {
    public let failures: [String]
    public var description: String {
        "inference incomplete: " + failures.joined(separator: "; ") + "; fix the cause and rerun with --resume"
    }
}
