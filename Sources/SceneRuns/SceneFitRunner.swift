import Foundation
import ImageStores
import Inference
import RunKit
import SceneFitting
import SceneModel
import TesseraHDF5
import WorkQueue

/// `tessera optimize` and `tessera sample`: the forcepho loop — check out a region from the
/// `SuperScene`, build its patch, fit it, check it back in — run over the shared master/worker
/// engine. With one process the same loop runs serially; under mpirun rank 0 is the scene
/// master and the other ranks fit.
///
/// Output in the run directory:
/// - `results.h5` (parallel HDF5, every rank writes only its own slabs with independent MPI-IO):
///   `/chains/<id>` draws × parameters per source (sampling), columns named by the `parameters`
///   attribute (fluxes per band, ra, dec [deg], q, pa [rad], sersic, rhalf [arcsec]), and
///   `/sampler/<id>` the per-draw NUTS statistics of those rows (acceptance, tree depth,
///   divergence, energy, log density, step size, patch number);
///   `/patches/<field>` one row per patch number (rank, active ids, step size, divergences,
///   timing, …; a row counts only if `state.json` lists the patch as checked in);
///   `/state/*` the final global state, written at the end.
/// - `state.json`: the global state, rewritten atomically after every check-in (what `--resume`
///   continues from); `patches.jsonl`: checkout / check-in / failure events, one JSON per line.
/// - `catalog.fits`: the final catalog with uncertainties, iteration counts and flags, and per
///   source `converged` and `n_pass` (also `/state/converged`, `/state/n_pass` in results.h5).
///
/// Passes. `optimize` runs passes over the whole scene (ngmixer's multi-object fitting loop):
/// each check-in is one pass of its active sources, fitted with their neighbours at the latest
/// values, and a source is fitted again until it and its neighbours meet the `passes:` rule
/// (`PassConvergence`) or it has had `passes.max` passes; `converged` is whether its last pass
/// met the rule. `sample` runs `target_iterations / draws_per_patch` passes per source, so every
/// source is resampled with its neighbours at later draws; there `converged` means that every
/// parameter's R̂ across the passes (`PassDiagnostics`) is at most 1.05. Both log a line per pass.
public enum SceneFitRunner {
    public struct Summary: Sendable, Equatable {
        public var sources: Int
        public var regions: Int
        public var flagged: Int
        public var seconds: Double
    }

    /// What a worker receives: a region and everything needed to fit it.
    struct RegionTask: Codable, Sendable {
        var region: SceneRegion
        var active: [Source]
        var roi: [Double?]
        var fixed: [Source]
        var anchors: [Source]
        var covariances: [[Double]?]
        /// Chain row where each active source's new draws start.
        var chainOffsets: [Int]
        /// Optimize's first pass (`passes.fluxes_first`): fit the fluxes alone.
        var fluxesOnly = false
    }

    /// What a worker returns (its sampler statistics and timing go to the patch's row in results.h5).
    struct RegionOutcome: Codable, Sendable {
        var sources: [Source]
        var covariances: [[Double]]
        /// Per active source: posterior (or Laplace) standard deviation per catalog column.
        var uncertainties: [[String: Double]]
        var rank: Int
        /// Per active source: `FitFlags` raw values about its uncertainties (e.g. a regularised Laplace covariance).
        var flags: [Int] = []
        /// Sampling: transitions per kept draw (`FitSettings.minESS`), and whether the kept draws met that target.
        var thinning = 1
        var metESSTarget = true
    }

    /// The saved global state (`state.json`): the scene's checkpoint, a whole-state snapshot
    /// (`SnapshotStore`) rather than one file per patch, because a patch's result is folded into
    /// the sources it shares with later patches. `checkedIn` lists the patches it includes.
    struct SavedState: Codable, ResumeSnapshot {
        var sources: [Source]
        var covariances: [[Double]?]
        var iterations: [Int]
        var flagged: [Int]
        var patchesIssued: Int
        var checkedIn: [Int]
        var uncertainties: [[String: Double]?]
        var mode: String
        /// Optimize's pass bookkeeping (absent in sampling runs and in older state files).
        var tracker: PassTracker?
        /// Per source: `FitFlags` raw values of its latest fit (optional: states saved before flags existed lack it).
        var fitFlags: [Int]?

        var finishedKeys: [Int] { checkedIn }
    }

    /// Per source, how far its light must be modelled (`SuperScene.reach`): the fixed rule
    /// (`SuperScene.lightReach`), or with `reach_noise_fraction` > 0 the noise-aware reach capped by it
    /// (`NoiseLightReach`). Rank 0 only (the others hold no scene); it logs what the noise-aware reach did.
    static func lightReaches(_ sources: [Source], builder: PatchBuilder, sersic: SersicMixture, _ c: SceneFitConfiguration,
                             rank: Int, log: (String) -> Void) throws -> [Double] {
        let fixed = sources.map { SuperScene.lightReach(of: $0) }
        guard c.reachNoiseFraction > 0, rank == 0 else { return fixed }
        let model = NoiseLightReach(bands: try builder.noiseReachBands(), threshold: c.reachNoiseFraction, sersic: sersic)
        let reach = zip(sources, fixed).map { model.reach(of: $0, cap: $1) }
        let sorted = reach.sorted(), sortedFixed = fixed.sorted()
        log(String(format: "light reach (noise fraction %g): median %.2f″ (fixed rule %.2f″), max %.2f″ (%.2f″)", c.reachNoiseFraction,
                   sorted[sorted.count / 2], sortedFixed[sortedFixed.count / 2], sorted.last!, sortedFixed.last!))
        return reach
    }

    public static func run(_ c: SceneFitConfiguration, mode: FitSettings.Mode, context: RunContext, resume: Bool,
                           log: @escaping (String) -> Void = { print($0); fflush(nil) }) throws -> Summary {
        let comm = context.communicator
        let start = Date()
        let catalog = try SceneCatalog.read(c.catalog, bands: c.bands, fluxColumn: c.fluxColumn, rhalfConvention: c.rhalfConvention)
        let sersic = try c.sersicMixture()
        let builder = try PatchBuilder(store: try PixelStore(path: c.pixelStore), psfs: try PSFStore(contentsOf: URL(fileURLWithPath: c.psfStore)),
                                       bands: c.bands, sersic: sersic, defaultROI: c.roi)
        let target = mode == .sample ? c.targetIterations : c.passes.max
        let settings = c.fitSettings(mode: mode)
        let draws = mode == .sample ? c.drawsPerPatch : 1
        let sources = catalog.sources
        let statePath = context.file("state.json"), logPath = context.file("patches.jsonl")
        // Rewritten atomically after every check-in; a resume restores the SuperScene from it, so
        // no checked-in patch's work is handed out again.
        let stateStore = JSONSnapshotFile<SavedState>(path: statePath, what: "scene state")
        let resultsPath = context.file("results.h5")

        // Rank 0: the scene master's state.
        var scene = try SuperScene(sources: sources, targetIterations: target, activeRadius: c.activeRadius,
                                   fixedRadius: c.fixedRadius, maxActive: c.maxActive,
                                   roi: catalog.roi.map { $0 ?? c.roi }, reach: try lightReaches(sources, builder: builder, sersic: sersic, c, rank: comm.rank, log: log))
        scene.roiRHalfMultiple = c.roiRHalfMultiple
        scene.staleNeighbours = c.staleNeighbours
        scene.roiMax = c.roiMax
        var checkedIn: [Int] = []
        var uncertainties = [[String: Double]?](repeating: nil, count: sources.count)
        // Optimize's passes: per source its passes, last values and convergence (rank 0).
        var tracker: PassTracker? = mode == .optimize
            ? PassTracker(rule: try c.passes.rule(), neighbours: sources.indices.map { scene.neighbours(of: $0) }) : nil
        var fitFlags = [FitFlags](repeating: [], count: sources.count)
        if comm.isRoot {
            if resume, let saved = try stateStore.load() {
                guard saved.mode == mode.rawValue else {
                    throw RunStartError(message: "\(statePath): the run was a '\(saved.mode)' run, not '\(mode.rawValue)'")
                }
                // Patch numbers handed out after the last check-in (lost in flight) are not reused,
                // so every number in the log and in results.h5 names one checkout only.
                let logged = (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").compactMap { line in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["patch"] as? Int
                }.max() ?? -1
                try scene.restore(sources: saved.sources, covariances: saved.covariances, iterations: saved.iterations,
                                  flagged: Set(saved.flagged), patchesIssued: max(saved.patchesIssued, logged + 1))
                checkedIn = saved.checkedIn
                uncertainties = saved.uncertainties
                if var t = tracker, let st = saved.tracker {
                    try t.restore(passes: st.passes, converged: st.converged, lastChange: st.lastChange, values: st.values,
                                  excluded: st.excluded)
                    tracker = t
                    scene.settle(Set(sources.indices.filter { !t.needsPass($0) }))
                }
                if let f = saved.fitFlags, f.count == sources.count { fitFlags = f.map(FitFlags.init(rawValue:)) }
                log("\(mode.rawValue): resuming: \(scene.doneCount)/\(sources.count) sources done, \(checkedIn.count) patches checked in")
                try appendLog(logPath, ["event": "resume", "time": Date().timeIntervalSince1970])
            } else {
                let outside = sources.indices.filter { !builder.covers(sources[$0]) }
                for i in outside {
                    log("warning: source \(sources[i].id) (ra \(sources[i].ra), dec \(sources[i].dec)) lies outside every exposure in bands \(c.bands.joined(separator: ",")); it is flagged and not fitted")
                }
                scene.flag(outside)
                for i in outside { tracker?.exclude(i) }
            }
        }

        // Every rank opens the results file together (collective), creating it on a fresh run.
        let results: HDF5File
        // Patch rows: every check-in gives at least one source `draws` iterations, failures use
        // up to max_attempts numbers per source, and each resume skips the numbers lost in flight.
        let capacity = sources.count * (target / draws + c.maxAttempts) + 4096
        let resuming = try comm.broadcast(message: comm.isRoot ? resume && stateStore.exists : nil)
        if resuming && !FileManager.default.fileExists(atPath: resultsPath) {
            throw RunStartError(message: "\(resultsPath): missing, but \(statePath) records finished patches; the run directory is incomplete and cannot be resumed")
        }
        if resuming {
            results = try HDF5File.open(resultsPath, mode: .readWrite, communicator: comm)
        } else {
            results = try HDF5File.create(resultsPath, communicator: comm)
            try createLayout(results, sources: sources, bands: c.bands, mode: mode, target: target, capacity: capacity, maxActive: c.maxActive)
            try results.flush()
        }

        var attempts: [Int: Int] = [:]
        // Sampling: patches per thinning factor, and the ids of sources whose patch missed min_ess (this invocation).
        var thinnings: [Int: Int] = [:]
        var shortOfESS = Set<Int64>()
        // Regions done / estimated total, sources done, draws per second, ETA: redrawn on a
        // terminal, a plain line every 5 s in batch logs (mpirun, SLURM).
        var progress = ProgressLine(label: mode.rawValue, total: 1, interval: 5)
        var regionsDone = 0
        var drawsDone = 0
        var passLogged = 0
        let passDecimals = c.passes.maxerr < 0.01 ? 4 : 3
        // One line each time the whole scene completes another pass.
        func logPass(_ scene: SuperScene) {
            if let t = tracker {
                let k = t.completedPass
                guard k > passLogged else { return }
                passLogged = k
                let largest = t.largestChange.isFinite ? String(format: "%.\(passDecimals)g sigma", t.largestChange) : "n/a (first pass)"
                log("\(mode.rawValue): pass \(k) (max \(t.rule.maxPasses)): \(t.convergedCount)/\(t.activeCount) sources converged, largest change \(largest)"
                    + (t.isFinished ? "; done" : ""))
            } else {
                let open = scene.sources.indices.filter { !scene.flagged.contains($0) }
                let k = (open.map { scene.iterations[$0] }.min() ?? 0) / max(draws, 1)
                guard k > passLogged else { return }
                passLogged = k
                log("\(mode.rawValue): pass \(k)/\(target / max(draws, 1)) done: every source has \(k * draws) draws")
            }
        }
        // Optimize: record each active source's pass, then settle the sources that need no more.
        func recordPass(_ scene: inout SuperScene, _ task: RegionTask, _ outcome: RegionOutcome) throws {
            guard var t = tracker else { return }
            for (k, i) in task.region.active.enumerated() {
                let s = outcome.sources[k]
                try t.record(i, values: ScenePasses.values(s, bands: c.bands, ra0: sources[i].ra, dec0: sources[i].dec),
                             errors: ScenePasses.errors(outcome.uncertainties[k], bands: c.bands, isPoint: s.isPoint))
            }
            tracker = t
            scene.settle(Set(sources.indices.filter { !t.needsPass($0) }))
        }
        let scheduler = SceneScheduler(
            scene: scene,
            next: { scene in
                let ready = { (r: SceneRegion) -> Bool in
                    guard let t = tracker else { return true }
                    return c.passes.mayFit(active: r.active, fixed: r.fixed, tracker: t)
                }
                guard let region = scene.checkout(where: ready) else { return nil }
                try? appendLog(logPath, ["event": "checkout", "patch": region.patchID, "time": Date().timeIntervalSince1970,
                                         "active": region.active.map { sources[$0].id }, "fixed": region.fixed.map { sources[$0].id }])
                return RegionTask(region: region, active: region.active.map { scene.sources[$0] },
                                  roi: region.active.map { scene.regionROI($0) }, fixed: region.fixed.map { scene.sources[$0] },
                                  anchors: region.active.map { scene.initial[$0] },
                                  covariances: region.active.map { scene.covariances[$0] },
                                  chainOffsets: region.active.map { scene.iterations[$0] },
                                  fluxesOnly: tracker.map { t in c.passes.fitsFluxesOnly(passesDone: region.active.map { t.passes[$0] }) } ?? false)
            },
            complete: { scene, task, outcome, seconds in
                try scene.checkin(task.region, sources: outcome.sources, covariances: outcome.covariances, iterations: draws)
                for (k, i) in task.region.active.enumerated() {
                    uncertainties[i] = outcome.uncertainties[k]
                    fitFlags[i] = k < outcome.flags.count ? FitFlags(rawValue: outcome.flags[k]) : []
                }
                try recordPass(&scene, task, outcome)
                checkedIn.append(task.region.patchID)
                let state = SavedState(sources: scene.sources, covariances: scene.covariances, iterations: scene.iterations,
                                       flagged: scene.flagged.sorted(), patchesIssued: scene.patchesIssued, checkedIn: checkedIn,
                                       uncertainties: uncertainties, mode: mode.rawValue, tracker: tracker, fitFlags: fitFlags.map(\.rawValue))
                try stateStore.save(state)
                try appendLog(logPath, ["event": "checkin", "patch": task.region.patchID, "time": Date().timeIntervalSince1970,
                                        "rank": outcome.rank, "active": task.active.map(\.id), "draws": draws,
                                        "thinning": outcome.thinning, "met_min_ess": outcome.metESSTarget])
                thinnings[outcome.thinning, default: 0] += 1
                if !outcome.metESSTarget { shortOfESS.formUnion(task.active.map(\.id)) }
                regionsDone += 1
                drawsDone += draws * task.active.count
                let elapsed = Date().timeIntervalSince(start)
                progress.show(progressText(mode: mode, scene: scene, regions: regionsDone, draws: drawsDone,
                                           elapsed: elapsed), elapsed: elapsed, final: !scene.undone)
                logPass(scene)
            },
            fail: { scene, task, message in
                let n = (attempts[task.region.seed] ?? 0) + 1
                attempts[task.region.seed] = n
                let flag = n >= c.maxAttempts
                scene.abandon(task.region, flag: flag)
                if flag, var t = tracker {
                    for i in task.region.active { t.exclude(i) }
                    tracker = t
                    scene.settle(Set(sources.indices.filter { !t.needsPass($0) }))
                }
                log("\(mode.rawValue): patch \(task.region.patchID) (sources \(task.active.map { String($0.id) }.joined(separator: ","))) failed: \(message)"
                    + (flag ? "; sources flagged after \(n) attempts" : "; returned to the pool"))
                try? appendLog(logPath, ["event": "fail", "patch": task.region.patchID, "time": Date().timeIntervalSince1970,
                                         "active": task.active.map(\.id), "flagged": flag, "message": message])
            })
        var sched = scheduler
        if comm.isRoot {
            log("\(mode.rawValue): \(sources.count) sources in bands \(c.bands.joined(separator: ",")), "
                + (mode == .sample ? "target \(target) iteration(s) each in \(target / draws) pass(es), "
                                   : "\(c.passes.min)-\(c.passes.max) passes, ")
                + "\(max(comm.size - 1, 1)) worker(s)")
        }
        let summary = try WorkQueue.run(communicator: comm, scheduler: &sched) { task in
            try fitRegion(task, builder: builder, settings: settings, bounds: c.bounds, seed: c.seed, mode: mode,
                          bands: c.bands, results: results, rank: comm.rank)
        }
        try results.close()

        var regions = summary?.completed ?? 0
        var flaggedCount = 0
        if comm.isRoot {
            let final = sched.scene
            flaggedCount = final.flagged.count
            // Per source: passes done and convergence (optimize: the pass rule; sample: R̂ across passes).
            let passes: [Int], converged: [Bool]
            if let t = tracker {
                passes = t.passes
                converged = t.converged
            } else {
                passes = final.iterations.map { $0 / max(draws, 1) }
                converged = try PassDiagnostics.convergedAcrossPasses(resultsPath: resultsPath, sources: final.sources, bands: c.bands,
                                                                     iterations: final.iterations, passLength: draws)
            }
            try writeFinalState(resultsPath, scene: final, bands: c.bands, converged: converged, passes: passes)
            let cat = SceneCatalog(bands: c.bands, sources: final.sources, roi: catalog.roi)
            try cat.write(context.file("catalog.fits"),
                          uncertainties: uncertainties.map { $0 ?? [:] }, iterations: final.iterations,
                          flagged: final.sources.indices.map { final.flagged.contains($0) },
                          flags: final.sources.indices.map { i in
                              var f = final.flagged.contains(i) ? fitFlags[i].union(.flagged) : fitFlags[i]
                              if !converged[i] && !final.flagged.contains(i) { f.formUnion(.notConverged) }
                              return f.rawValue
                          },
                          converged: converged, passes: passes)
            let convergedCount = converged.indices.filter { converged[$0] && !final.flagged.contains($0) }.count
            if mode == .sample, c.minESS > 0 {
                let extended = thinnings.filter { $0.key > 1 }.sorted { $0.key < $1.key }
                log("sample: \(extended.reduce(0) { $0 + $1.value }) of \(thinnings.values.reduce(0, +)) patches of this run extended to reach "
                    + "ESS >= \(Int(c.minESS)) and R-hat <= \(FitSettings.rHatLimit)" + (extended.isEmpty ? "" : " (" + extended.map { "x\($0.key): \($0.value)" }.joined(separator: ", ") + ")")
                    + (shortOfESS.isEmpty ? "" : "; still short after x\(c.maxThinning) (max_thinning): sources "
                        + shortOfESS.sorted().map(String.init).joined(separator: ", ") + ": raise max_thinning or warmup"))
            }
            log("\(mode.rawValue): \(regions) patches, \(final.doneCount)/\(sources.count) sources done, \(convergedCount)/\(sources.count - flaggedCount) converged "
                + "in \(passes.max() ?? 0) pass(es) at most, \(flaggedCount) flagged; wrote \(context.file("catalog.fits"))")
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
            let wall = Date().timeIntervalSince(start)
            log(String(format: "%@: rank 0 used %.2f s CPU over %.1f s wall (%.1f%%)%@", mode.rawValue, cpu, wall, 100 * cpu / max(wall, 1e-9),
                       comm.size > 1 ? " as scene master" : " (serial: it also fitted)"))
        }
        regions = try comm.broadcast(message: comm.isRoot ? regions : nil)
        flaggedCount = try comm.broadcast(message: comm.isRoot ? flaggedCount : nil)
        return Summary(sources: sources.count, regions: regions, flagged: flaggedCount, seconds: Date().timeIntervalSince(start))
    }

    static func progressText(mode: FitSettings.Mode, scene: SuperScene, regions: Int, draws: Int, elapsed: Double) -> String {
        let remaining = scene.sources.indices.reduce(0) { $0 + (scene.flagged.contains($1) ? 0 : max(0, scene.targetIterations - scene.iterations[$1])) }
        let rate = elapsed > 0 ? Double(draws) / elapsed : 0
        let perRegion = regions > 0 ? Double(draws) / Double(regions) : 1
        let estimatedTotal = regions + Int((Double(remaining) / max(perRegion, 1)).rounded(.up))
        var text = "\(mode.rawValue): regions \(regions)/~\(estimatedTotal), sources done \(scene.doneCount)/\(scene.count)"
        text += String(format: mode == .sample ? ", %.3g draws/s" : ", %.3g source fits/s", rate)
        if rate > 0 && remaining > 0 { text += String(format: ", ETA %.0f s", Double(remaining) / rate) }
        return text
    }

    static func appendLog(_ path: String, _ record: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) + Data([0x0A])
        if let h = FileHandle(forWritingAtPath: path) {
            defer { try? h.close() }
            try h.seekToEnd()
            try h.write(contentsOf: data)
        } else {
            try data.write(to: URL(fileURLWithPath: path))
        }
    }
}
