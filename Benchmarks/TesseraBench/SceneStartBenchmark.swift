import Foundation
import SceneFitting
import SceneModel
import SceneRuns

/// Does one patch's optimiser reach the same optimum from the starting catalog as from the truth?
/// (issue 16: the crowded GalSim scene's wide pulls.) The active sources' neighbours are fixed at
/// the reference catalog's values (all of them); the actives start once from `CATALOG` and once from `REFERENCE`,
/// in one patch whose plane and pixels follow `CATALOG`.
///
/// Usage: tessera-bench scene-start SCENE_DIR CATALOG REFERENCE ROWS [ITERATIONS [SECOND_START]]: ROWS are
/// 1-based catalog rows, comma-separated; SECOND_START (default REFERENCE) is the catalog the
/// second start takes the actives from, so that, with REFERENCE a run's own catalog, one can ask
/// whether that run's state is an optimum given its own neighbours. `FLUXES_FIRST=0` in the
/// environment turns off the patch fit's fluxes-first stage, to measure what it does.
enum SceneStartBenchmark {
    static func run(arguments: [String]) {
        guard arguments.count >= 4 else {
            print("usage: tessera-bench scene-start SCENE_DIR CATALOG REFERENCE ROWS(1-based, comma-separated) [ITERATIONS=300 [SECOND_START]]")
            exit(2)
        }
        let dir = arguments[0]
        let rows = arguments[3].split(separator: ",").compactMap { Int($0) }.map { $0 - 1 }
        let iterations = arguments.count > 4 ? Int(arguments[4]) ?? 300 : 300
        do {
            let (bands, builder, bounds) = try SceneSamplingBenchmark.sceneInputs(dir)
            let start = try SceneCatalog.read(arguments[1], bands: bands).sources
            let reference = try SceneCatalog.read(arguments[2], bands: bands).sources
            let second = arguments.count > 5 ? try SceneCatalog.read(arguments[5], bands: bands).sources : reference
            // Every other source is fixed (the runner fixes those whose light reaches the region).
            let fixed = reference.indices.filter { !rows.contains($0) }
            // One patch (plane and pixels from the starting catalog), so log p compares.
            let patch = try builder.build(active: rows.map { start[$0] }, roi: rows.map { _ in nil },
                                          fixed: fixed.map { reference[$0] }, anchors: rows.map { start[$0] })
            let layout = patch.kernel.layout
            let starts = [("catalog", patch.start), ("second", rows.map { PatchSource(second[$0], plane: patch.plane) })]
            for (label, sources) in starts {
                let x0 = patch.kernel.parameters(of: sources)
                let paCentres = (0..<layout.sourceCount).map { s in layout.index(ofSource: s, .pa).map { x0[$0] } }
                let posterior = try PatchPosterior(kernel: patch.kernel, anchors: patch.anchors, bounds: bounds, paCentres: paCentres)
                var settings = FitSettings()
                settings.mode = .optimize
                settings.optimizerIterations = iterations
                settings.fluxesFirst = ProcessInfo.processInfo.environment["FLUXES_FIRST"] != "0"
                let t0 = Date()
                let fit = try PatchFitter.fit(posterior: posterior, start: x0, covariances: Array(repeating: nil, count: layout.sourceCount),
                                              settings: settings, seed: 1, stream: 0)
                let lp = try posterior.logDensityAndGradient(posterior.unconstrain(fit.final)).value
                print(String(format: "%@ start: log p %.3f, chi2 %.1f, converged %@, %d evaluations, %.1f s",
                             label, lp, fit.chi2, String(describing: fit.optimizerConverged), fit.evaluations, Date().timeIntervalSince(t0)))
                for s in 0..<layout.sourceCount {
                    let ps = layout.parameters(ofSource: s)
                    let vals = ps.map { p in String(format: "%@ %.4g", "\(p)", fit.final[layout.index(ofSource: s, p)!]) }
                    print("  row \(rows[s] + 1): " + vals.joined(separator: ", "))
                }
            }
        } catch {
            print("scene-start failed: \(error)")
            exit(1)
        }
    }
}
