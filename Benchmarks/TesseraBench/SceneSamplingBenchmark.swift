import Foundation
import ImageStores
import Inference
import SceneFitting
import SceneModel
import SceneRuns

/// Cost per gradient and NUTS efficiency of scene sampling on a real scene directory (issue 16,
/// part 5): the crowded GalSim scene of `Benchmarks/galsim_validation.py` (30 sources, 2 bands × 3
/// exposures of 200² at 0.03″) or the committed fixture `Tests/Fixtures/galsim/crowded`, after
/// `tessera fit-psf` and `tessera preprocess` made its `psf.h5` and `pixels.h5`.
///
/// Patches are formed as the scene runner does: a seed source and its unassigned neighbours
/// within `activeRadius` (at most `maxActive`) are active, sources within `fixedRadius` of an
/// active one are fixed (subtracted at their catalog values). Each patch is optimised (L-BFGS +
/// Laplace covariance, `PatchFitter` optimize mode), then, for the first `samplePatches` patches,
/// sampled by NUTS from the optimum with the Laplace covariance as the starting metric, exactly
/// as `tessera sample` seeds a patch from an optimize catalog.
///
/// Reports, per patch and in total:
/// - ms per ln L + gradient call and Gaussian × pixel pairs evaluated per call, with footprints
///   (`SceneKernel.footprintTolerance` = 0.01; the default is 0, off) and without (τ = 0: only the exact
///   cut at exp(−37)), timed alternately in the same run so load affects both alike;
/// - gradient evaluations (leapfrog steps) per NUTS iteration, median and mean, for warm-up and
///   kept draws, the step size and the fraction of divergent draws, for each sampler variant asked.
///
/// Usage: tessera-bench scene-sampling SCENE_DIR [CATALOG] [key=value ...] with keys
/// warmup (150), draws (100), patches (4: sample the first 4), select (a list such as 0,6,9: only
/// these patches, all sampled), depth (8), variants (adapt,shrink,laplace), repeat (20), dump (a
/// directory: each sampled patch's kept draws, constrained, with their sampler statistics, as
/// patch<P>-<variant>.csv, for looking at a slow patch's posterior).
/// Variants: `adapt` = Stan's windowed dense adaptation from the Laplace metric (each window's
/// estimate replaces the metric); `shrink` = the same windows, each estimate averaged with the
/// current metric weighted as many draws as the patch has parameters (`NUTS.metricPriorWeight`,
/// the `FitSettings` default); `laplace` = the Laplace metric kept, step size adapted only. Each
/// with a `-e` suffix (e.g. `laplace-e`): the same in ellipticity coordinates for (q, pa)
/// (`PatchPosterior.ShapeCoordinates.ellipticity`, `tessera sample`'s default); a further
/// `-full` suffix starts from the patch's whole Laplace covariance, cross-source terms included
/// (`FitSettings.fullLaplaceMetric`), re-optimised like `-e`; a final `-single` samples with the kernel in single
/// precision (`FitSettings.samplingPrecision`), whose ms per gradient (τ = 0, and τ = 0.01) is reported beside the double's;
/// a last `-fp` samples with footprints (`FitSettings.samplingFootprintTolerance` = 0.01, `tessera sample`'s default),
/// e.g. `adapt-e-single` against `adapt-e-single-fp` for the cost of footprints in NUTS.
enum SceneSamplingBenchmark {
    static func run(arguments: [String]) {
        guard let dir = arguments.first else {
            print("usage: tessera-bench scene-sampling SCENE_DIR [CATALOG] [warmup=150] [draws=100] [patches=4] [depth=8] [variants=adapt,shrink,laplace] [repeat=20]")
            exit(2)
        }
        var options: [String: String] = [:]
        var catalogPath = "\(dir)/initial.fits"
        for a in arguments.dropFirst() {
            if let eq = a.firstIndex(of: "=") { options[String(a[..<eq])] = String(a[a.index(after: eq)...]) } else { catalogPath = a }
        }
        func int(_ k: String, _ d: Int) -> Int { options[k].flatMap(Int.init) ?? d }
        let warmup = int("warmup", 150), draws = int("draws", 100), samplePatches = int("patches", 4)
        let depth = int("depth", 8), repeats = int("repeat", 20)
        let selected = options["select"].map { $0.split(separator: ",").compactMap { Int($0) } }
        let variants = (options["variants"] ?? "adapt,shrink,laplace").split(separator: ",").map(String.init)
        do {
            try run(dir: dir, catalogPath: catalogPath, warmup: warmup, draws: draws, samplePatches: samplePatches,
                    depth: depth, variants: variants, repeats: repeats, selected: selected, dump: options["dump"])
        } catch {
            print("scene-sampling benchmark failed: \(error)")
            exit(1)
        }
    }

    static let activeRadius = 0.5, fixedRadius = 1.5, maxActive = 4, roi = 1.0

    static func separation(_ a: Source, _ b: Source) -> Double {
        let dra = (a.ra - b.ra) * cos(a.dec * .pi / 180), ddec = a.dec - b.dec
        return (dra * dra + ddec * ddec).squareRoot() * 3600
    }

    /// Greedy patches: (active indices, fixed indices).
    static func patches(_ sources: [Source]) -> [([Int], [Int])] {
        var assigned = Set<Int>()
        var out: [([Int], [Int])] = []
        for s in sources.indices where !assigned.contains(s) {
            var active = [s]
            let near = sources.indices.filter { !assigned.contains($0) && $0 != s && separation(sources[s], sources[$0]) <= activeRadius }
                .sorted { separation(sources[s], sources[$0]) < separation(sources[s], sources[$1]) }
            active += near.prefix(maxActive - 1)
            active.forEach { assigned.insert($0) }
            let fixed = sources.indices.filter { f in !active.contains(f) && active.contains { separation(sources[$0], sources[f]) <= fixedRadius } }
            out.append((active, fixed))
        }
        return out
    }

    static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }

    /// A scene directory's bands, patch builder (bundled Sérsic table, `roi`) and the bounds of
    /// `Benchmarks/galsim_validation.py`'s configuration (n 0.5–6, r_half 0.02–1.5″).
    static func sceneInputs(_ dir: String) throws -> (bands: [String], builder: PatchBuilder, bounds: ParameterBounds) {
        let psfs = try PSFStore(contentsOf: URL(fileURLWithPath: "\(dir)/psf.h5"))
        let store = try PixelStore(path: "\(dir)/pixels.h5")
        let bands = Array(Set(store.exposures.map(\.band))).sorted()
        let builder = try PatchBuilder(store: store, psfs: psfs, bands: bands, sersic: try SersicMixture.bundled(), defaultROI: roi)
        var bounds = ParameterBounds()
        bounds.sersic = 0.5...6.0
        bounds.rhalf = 0.02...1.5
        return (bands, builder, bounds)
    }

    static func run(dir: String, catalogPath: String, warmup: Int, draws: Int, samplePatches: Int, depth: Int,
                    variants: [String], repeats: Int, selected: [Int]? = nil, dump: String? = nil) throws {
        let (bands, builder, bounds) = try sceneInputs(dir)
        let catalog = try SceneCatalog.read(catalogPath, bands: bands)
        let sources = catalog.sources
        let groups = patches(sources)
        print("scene-sampling: \(dir), catalog \(catalogPath): \(sources.count) sources, \(groups.count) patches (active radius \(activeRadius)″, ≤ \(maxActive) active, fixed radius \(fixedRadius)″, roi \(roi)″), bands \(bands)")
        print("  kernel \(SceneKernel.codeGeneration); footprints τ = 0.01 against τ = 0 (exact cut at exp(−\(SceneKernel.cullingExponent)))")
        var msOn: [Double] = [], msOff: [Double] = [], msSingle: [Double] = [], msSingleOn: [Double] = [], pairsOn: [Double] = [], pairsOff: [Double] = [], pixelsAll: [Double] = []
        var perVariant: [String: (warm: [Double], kept: [Double], div: Int, n: Int, seconds: Double)] = [:]
        for (p, (active, fixed)) in groups.enumerated() where selected.map({ $0.contains(p) }) ?? true {
            let patch = try builder.build(active: active.map { sources[$0] }, roi: active.map { _ in nil },
                                          fixed: fixed.map { sources[$0] }, anchors: active.map { sources[$0] })
            let layout = patch.kernel.layout
            let start = patch.kernel.parameters(of: patch.start)
            let paCentres = (0..<layout.sourceCount).map { s in layout.index(ofSource: s, .pa).map { start[$0] } }
            let posterior = try PatchPosterior(kernel: patch.kernel, anchors: patch.anchors, bounds: bounds, paCentres: paCentres)
            var settings = FitSettings()
            settings.mode = .optimize
            let opt = try PatchFitter.fit(posterior: posterior, start: start, covariances: Array(repeating: nil, count: layout.sourceCount),
                                          settings: settings, seed: 1, stream: UInt64(p))
            // Cost per gradient at the optimum, footprints on and off, timed alternately.
            var on = patch.kernel, off = patch.kernel
            on.footprintTolerance = 0.01
            off.footprintTolerance = 0
            var single = off, singleOn = on
            single.precision = .single
            singleOn.precision = .single
            let pOn = try on.evaluate(opt.final).gaussianPixelEvaluations, pOff = try off.evaluate(opt.final).gaussianPixelEvaluations
            var best = [Double](repeating: .infinity, count: 4)
            for _ in 0..<repeats {
                for (i, k) in [on, off, single, singleOn].enumerated() {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    _ = try k.evaluate(opt.final)
                    best[i] = min(best[i], Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-6)
                }
            }
            let (bestOn, bestOff, bestSingle, bestSingleOn) = (best[0], best[1], best[2], best[3])
            msOn.append(bestOn); msOff.append(bestOff); msSingle.append(bestSingle); msSingleOn.append(bestSingleOn); pairsOn.append(Double(pOn)); pairsOff.append(Double(pOff))
            pixelsAll.append(Double(patch.pixelCount))
            var line = String(format: "  patch %2d: %d active %d fixed, %5d px, %2d params | ms/grad %.2f (τ=0: %.2f, %.2fx; single τ=0: %.2f, %.2fx, τ=0.01: %.2f, %.2fx) | pairs/grad %.3g (τ=0: %.3g, %.2fx)",
                              p, active.count, fixed.count, patch.pixelCount, layout.count, bestOn, bestOff, bestOff / bestOn,
                              bestSingle, bestOff / bestSingle, bestSingleOn, bestOff / bestSingleOn,
                              Double(pOn), Double(pOff), Double(pOff) / Double(pOn))
            // The optimum's Laplace errors in the unconstrained space (the sampler's starting
            // metric): per source, the widths' range, and whether −H had to be regularised.
            let widths = opt.covariances.enumerated().map { s, b -> String in
                let n = Int(Double(b.count).squareRoot())
                let d = (0..<n).map { b[$0 * n + $0].squareRoot() }
                let flag = s < opt.covarianceFlags.count && opt.covarianceFlags[s].contains(.laplaceRegularised) ? " regularised" : ""
                return String(format: "%.2g–%.2g%@", d.min() ?? .nan, d.max() ?? .nan, flag)
            }
            line += "\n      optimum: converged \(opt.optimizerConverged.map(String.init) ?? "n/a"), Laplace σ_y per source \(widths.joined(separator: ", "))"
            if selected.map({ $0.contains(p) }) ?? (p < samplePatches) {
                for v in variants {
                    // A "-e" suffix: the same variant in ellipticity coordinates. Its Laplace metric
                    // must be the one of that space, so the patch is re-optimised there first (as
                    // `tessera sample` does for a source's first patch); those evaluations are not
                    // counted in the NUTS figures.
                    let footprints = v.hasSuffix("-fp")
                    let withoutFootprints = footprints ? String(v.dropLast(3)) : v
                    let singlePrecision = withoutFootprints.hasSuffix("-single")
                    let variant = singlePrecision ? String(withoutFootprints.dropLast(7)) : withoutFootprints
                    let full = variant.hasSuffix("-full")
                    let name = full ? String(variant.dropLast(5)) : variant
                    let ellipticity = name.hasSuffix("-e")
                    let base = ellipticity ? String(name.dropLast(2)) : name
                    var s = FitSettings()
                    s.mode = .sample
                    s.warmup = warmup
                    s.draws = draws
                    s.maxTreeDepth = depth
                    s.adaptMetric = base != "laplace"
                    s.metricPriorWeight = base == "adapt" ? 0 : nil
                    s.fullLaplaceMetric = full
                    s.samplingPrecision = singlePrecision ? .single : .double
                    s.samplingFootprintTolerance = footprints ? FitSettings.defaultSamplingFootprintTolerance : 0
                    let target = ellipticity
                        ? try PatchPosterior(kernel: patch.kernel, anchors: patch.anchors, bounds: bounds, paCentres: paCentres, shapes: .ellipticity)
                        : posterior
                    let t0 = Date()
                    let fit = try PatchFitter.fit(posterior: target, start: opt.final,
                                                  covariances: ellipticity || full ? Array(repeating: nil, count: layout.sourceCount) : opt.covariances.map { Optional($0) },
                                                  settings: s, seed: 7, stream: UInt64(p))
                    let dt = Date().timeIntervalSince(t0)
                    guard let st = fit.stats else { continue }
                    if let dump {
                        try FileManager.default.createDirectory(atPath: dump, withIntermediateDirectories: true)
                        let names = (0..<layout.sourceCount).flatMap { s in layout.parameters(ofSource: s).map { "s\(s)_\($0)" } }
                        var text = (names + ["accept_stat", "tree_depth", "n_leapfrog", "divergent", "energy", "log_density"]).joined(separator: ",") + "\n"
                        for (d, row) in fit.chain.enumerated() {
                            text += (row.map { "\($0)" } + ["\(st.acceptStat[d])", "\(st.treeDepth[d])", "\(st.nLeapfrog[d])",
                                                             st.divergent[d] ? "1" : "0", "\(st.energy[d])", "\(st.logLikelihood[d])"]).joined(separator: ",") + "\n"
                        }
                        try text.write(toFile: "\(dump)/patch\(p)-\(v).csv", atomically: true, encoding: .utf8)
                    }
                    var acc = perVariant[v] ?? ([], [], 0, 0, 0)
                    acc.warm += st.warmupLeapfrog.map(Double.init); acc.kept += st.nLeapfrog.map(Double.init)
                    acc.div += st.divergences; acc.n += st.nLeapfrog.count; acc.seconds += dt
                    perVariant[v] = acc
                    line += String(format: "\n      %@: evals/iter median %.0f (warm-up %.0f), mean %.1f; step %.3f; divergent %d/%d; %.1f s",
                                   v, median(st.nLeapfrog.map(Double.init)), median(st.warmupLeapfrog.map(Double.init)),
                                   Double(st.nLeapfrog.reduce(0, +)) / Double(max(st.nLeapfrog.count, 1)), st.stepSize,
                                   st.divergences, st.nLeapfrog.count, dt)
                }
            }
            print(line)
        }
        let sum = { (v: [Double]) in v.reduce(0, +) }
        print(String(format: "total per sweep (one gradient in every patch): %.1f ms with footprints, %.1f ms without (%.2fx); pairs %.4g vs %.4g (%.2fx); %.0f pixels",
                     sum(msOn), sum(msOff), sum(msOff) / sum(msOn), sum(pairsOn), sum(pairsOff), sum(pairsOff) / sum(pairsOn), sum(pixelsAll)))
        print(String(format: "per patch: median ms/gradient %.2f with footprints, %.2f without; median pairs/gradient %.3g vs %.3g",
                     median(msOn), median(msOff), median(pairsOn), median(pairsOff)))
        print(String(format: "single precision (τ = 0): %.1f ms per sweep against %.1f in double (%.2fx); median ms/gradient %.2f",
                     sum(msSingle), sum(msOff), sum(msOff) / sum(msSingle), median(msSingle)))
        print(String(format: "single precision with footprints (τ = 0.01): %.1f ms per sweep (%.2fx single τ = 0, %.2fx double τ = 0); median ms/gradient %.2f",
                     sum(msSingleOn), sum(msSingle) / sum(msSingleOn), sum(msOff) / sum(msSingleOn), median(msSingleOn)))
        for v in variants {
            guard let a = perVariant[v] else { continue }
            print(String(format: "NUTS %@ (%d patches, warm-up %d, draws %d, max depth %d): evals/iteration median %.0f, mean %.1f (warm-up median %.0f); divergent %d/%d = %.2f%%; %.1f s",
                         v, selected?.count ?? min(samplePatches, groups.count), warmup, draws, depth, median(a.kept), sum(a.kept) / Double(max(a.kept.count, 1)),
                         median(a.warm), a.div, a.n, 100 * Double(a.div) / Double(max(a.n, 1)), a.seconds))
        }
    }
}
