import Foundation
import Inference
import SceneModel
import TesseraLinAlg

/// How a patch is fitted. Sampling settings follow Stan's names.
public struct FitSettings: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case optimize, sample }
    public var mode: Mode = .sample
    /// NUTS warm-up iterations per patch (step size and metric adaptation; not kept).
    public var warmup = 150
    /// Draws kept per patch; every active source receives this many iterations per check-out.
    public var draws = 100
    public var maxTreeDepth = 8
    public var targetAcceptance = 0.8
    /// Dense (full) or diagonal mass matrix.
    public var denseMetric = true
    /// L-BFGS iterations for optimisation (and for the start of a source's first sampling patch).
    public var optimizerIterations = 300
    /// Optimisation: maximise over the fluxes alone (positions and shapes held at the start)
    /// before all parameters together. The model is linear in flux, so this stage is cheap, and
    /// a start whose fluxes are 20% off no longer sends the joint fit into another mode: on the
    /// GalSim crowded scene (seed 21) a four-galaxy patch started from the catalog ended 53 in
    /// log p below the optimum reached from the truth without it, at the same optimum with it.
    public var fluxesFirst = true
    /// Optimisation: stop after the fluxes-alone stage (`optimize`'s first pass, which puts
    /// every source's flux right before any patch fits shapes beside it).
    public var fluxesOnly = false
    /// Re-estimate the mass matrix in Stan's warm-up windows (true), or keep the starting metric
    /// (the scene's covariances, else the Laplace covariance) and adapt only the step size.
    public var adaptMetric = true
    /// Weight (pseudo-draws) of the starting metric in each warm-up window's estimate
    /// (`NUTS.metricPriorWeight`); nil: the patch's parameter count; 0 (the default): Stan's window
    /// estimate alone. Off by default: it cut leapfrog steps 3× on a correlated 16-d Gaussian
    /// (MetricPriorWeightTests) but made no difference on the crowded GalSim scene's patches.
    public var metricPriorWeight: Double? = 0
    /// How the fitted patch's posterior holds each galaxy's (q, pa): the runners build
    /// `PatchPosterior` with these coordinates (`sample` uses ellipticity coordinates by
    /// default, `optimize` and the stamp fitter q and pa).
    public var shapeCoordinates: PatchPosterior.ShapeCoordinates = .axisRatioAngle
    /// Sampling: when no active source has a covariance yet, start NUTS with the patch's whole
    /// Laplace covariance, cross-source terms included, instead of its per-source blocks.
    public var fullLaplaceMetric = false
    /// Sampling: the kernel's arithmetic during NUTS (`SceneKernel.Precision`; the optimisation before it, the
    /// Laplace covariance and the reported ln L stay in double). `single` halves the time per gradient within
    /// the error budget `SceneKernel.Precision` states.
    public var samplingPrecision = SceneKernel.Precision.double
    /// Sampling: the kernel's footprint budget τ during NUTS (`SceneKernel.footprintTolerance`; 0 the exact cut at
    /// exp(−37)). The optimisation before it and the Laplace covariance keep the posterior's own kernel (exact cut):
    /// L-BFGS's gradient test trips on the steps between footprint pieces, NUTS does not (each step changes ln L by
    /// at most ~‖w·r‖ on one 16-pixel sub-block × ε, ~1e−4, against the ~1 energy error NUTS tolerates).
    public var samplingFootprintTolerance = 0.0
    /// `tessera sample`'s `sample_footprint_tolerance` default (README, Scene fitting: measured on the crowded GalSim scene).
    public static let defaultSamplingFootprintTolerance = 0.01
    /// Sampling: extend each patch's chain until every parameter of its kept `draws` rows has an
    /// ESS of at least this and a split R̂ of at most `rHatLimit` (0: off, exactly
    /// `draws` transitions). The chain continues after warm-up with the adapted step size and
    /// metric; a chain of k·draws transitions is thinned to every k-th, so the stored chain keeps
    /// its `draws` rows and the run's file layout. Why: a few patches (a galaxy whose n spans 1–4,
    /// with a long tail in r_half) mix 5–10× slower than the rest, and extending only those is far
    /// cheaper than more draws everywhere (issue 16, the demo's ESS criterion).
    public var minESS = 0.0
    /// Sampling: at most this many transitions per kept draw when extending for `minESS`.
    public var maxThinning = 4
    /// The split R̂ a sampled column must not exceed: the `minESS` stopping rule's, and the one `sample` flags
    /// a source's convergence across passes by (`PassDiagnostics`).
    public static let rHatLimit = 1.05

    public init() {}
}

/// Sampler statistics of one patch, per kept draw.
public struct PatchSamplerStats: Codable, Sendable, Equatable {
    public var stepSize: Double
    public var acceptStat: [Double]
    public var treeDepth: [Int]
    public var divergent: [Bool]
    public var energy: [Double]
    public var logLikelihood: [Double]
    /// Leapfrog steps (gradient evaluations) of each kept draw (Stan's `n_leapfrog__`).
    public var nLeapfrog: [Int] = []
    /// Leapfrog steps of each warm-up iteration.
    public var warmupLeapfrog: [Int] = []
    /// Transitions per kept draw (1 unless the chain was extended for `FitSettings.minESS`); each
    /// kept row's `nLeapfrog` then sums its transitions', and `divergent` is true when any of
    /// them diverged.
    public var thinning = 1
    /// Whether the kept draws met `FitSettings.minESS` and the R̂ limit (true when not asked for).
    public var metESSTarget = true
    public var divergences: Int { divergent.filter { $0 }.count }
}

/// The outcome of fitting one patch.
public struct PatchFitResult: Codable, Sendable {
    /// Final constrained parameter vector (the optimum, or the last draw when sampling).
    public var final: [Double]
    /// Per active source, its covariance block in the unconstrained space (row-major).
    public var covariances: [[Double]]
    /// Kept draws × parameters, constrained (empty when optimising).
    public var chain: [[Double]]
    /// Sampler statistics (nil when optimising).
    public var stats: PatchSamplerStats?
    /// ln L and χ² at `final`.
    public var logLikelihood: Double
    public var chi2: Double
    /// Log-density gradient evaluations used.
    public var evaluations: Int
    public var optimizerConverged: Bool?
    /// Per active source: `.laplaceRegularised` when its Laplace covariance (the optimisation's
    /// reported errors) was regularised or could not be computed (`RegularisedLaplace`); empty
    /// flags otherwise. Only meaningful for optimisation; sampling reports errors from draws.
    public var covarianceFlags: [FitFlags] = []
}

/// Fits the active sources of one patch: optimisation (L-BFGS, then a Laplace covariance from
/// the Hessian at the optimum) or NUTS sampling seeded with the covariances the scene already
/// holds (or, for sources fitted for the first time, with the Laplace covariance after a short
/// optimisation, as forcepho seeds its mass matrix).
public enum PatchFitter {
    /// L-BFGS iterations between re-measurements of the parameter widths that scale it.
    public static let optimizerRestartIterations = 100

    public static func fit(posterior: PatchPosterior, start: [Double], covariances known: [[Double]?],
                           settings: FitSettings, seed: UInt64, stream: UInt64) throws -> PatchFitResult {
        let layout = posterior.kernel.layout
        guard known.count == layout.sourceCount else {
            throw SceneModelError.dimensionMismatch(what: "source covariances", expected: layout.sourceCount, got: known.count)
        }
        var evaluations = 0
        var y = posterior.unconstrain(posterior.clampedInside(start))
        var converged: Bool?
        let needOptimum = settings.mode == .optimize || known.contains { $0 == nil }
        var covariance: Matrix?
        var covarianceFlags = [FitFlags](repeating: [], count: layout.sourceCount)
        var samplerMetric: Matrix?
        if needOptimum {
            var lbfgs = LBFGS()
            lbfgs.gradientTolerance = 1e-6
            // Preconditioned by each parameter's width (see `LBFGS.maximize(_:initial:scales:)`),
            // measured at the start and again at the point reached after every
            // `optimizerRestartIterations` iterations without convergence: widths measured far
            // from the mode (where some curvatures are not even negative) can be poor ones.
            var remaining = settings.optimizerIterations
            if (settings.fluxesFirst || settings.fluxesOnly) && remaining > 0 {
                let fluxes = (0..<layout.sourceCount).flatMap { s in (0..<layout.bandCount).map { layout.index(ofSource: s, .flux(band: $0))! } }
                let stage = try maximizeSubset(posterior, at: y, indices: fluxes, lbfgs: lbfgs, maxIterations: remaining)
                evaluations += stage.evaluations
                remaining -= stage.iterations
                y = stage.x
                converged = stage.status.converged
            }
            if !settings.fluxesOnly {
                var opt: OptimizationResult
                repeat {
                    var scales = Array(repeating: 1.0, count: layout.count)
                    if remaining > 0 {  // (none needed without iterations: a Laplace covariance at given values)
                        scales = try curvatureScales(posterior, at: y)
                        evaluations += layout.count + 1
                    }
                    lbfgs.maxIterations = Swift.min(remaining, Self.optimizerRestartIterations)
                    opt = try lbfgs.maximize(posterior, initial: y, scales: scales)
                    evaluations += opt.evaluations
                    remaining -= opt.iterations
                    y = opt.x
                } while opt.status == .maxIterationsReached && remaining > 0
                converged = opt.converged
            }
            // Never a constant in place of an error: a non-positive-definite −H is regularised
            // and the sources involved flagged; a non-finite one leaves NaN errors, also flagged.
            let laplace = try? RegularisedLaplace(posterior, at: y)
            evaluations += 2 * layout.count
            covariance = laplace?.covariance
            samplerMetric = laplace?.samplerMetric
            for s in 0..<layout.sourceCount {
                let range = layout.offsets[s]..<(layout.offsets[s] + blockSize(layout, s))
                if laplace == nil || laplace!.affected.contains(where: range.contains) { covarianceFlags[s].insert(.laplaceRegularised) }
            }
        }
        // Block-diagonal starting metric: the scene's covariances where known, else the blocks
        // of the Laplace covariance, or where −H had to be regularised of its scaled, capped
        // stand-in (`RegularisedLaplace.samplerMetric`), else a unit block. This is only the
        // sampler's starting metric.
        var metric = Matrix.identity(layout.count)
        let laplaceBlocks = samplerMetric.map { blocks($0, layout) }
        for s in 0..<layout.sourceCount {
            let o = layout.offsets[s], n = blockSize(layout, s)
            if let b = known[s] ?? laplaceBlocks?[s], b.count == n * n {
                for i in 0..<n { for j in 0..<n { metric[o + i, o + j] = b[i * n + j] } }
            }
        }
        if settings.fullLaplaceMetric, known.allSatisfy({ $0 == nil }), let full = samplerMetric, isPositiveDefinite(full) {
            metric = full
        }
        if !isPositiveDefinite(metric) { metric = Matrix.diagonal(metric.diagonalValues.map { $0 > 0 && $0.isFinite ? $0 : 1 }) }

        if settings.mode == .optimize {
            let x = posterior.constrain(y)
            let r = try posterior.kernel.evaluate(x)
            // The errors of this optimum: its own (possibly regularised) Laplace covariance, NaN
            // where the Hessian was not finite.
            let reported = covariance ?? Matrix(rows: layout.count, columns: layout.count,
                                                values: Array(repeating: .nan, count: layout.count * layout.count))
            return PatchFitResult(final: x, covariances: blocks(reported, layout), chain: [], stats: nil,
                                  logLikelihood: r.logLikelihood, chi2: r.chi2, evaluations: evaluations + 1,
                                  optimizerConverged: converged, covarianceFlags: covarianceFlags)
        }

        var nuts = NUTS(maxTreeDepth: settings.maxTreeDepth, targetAcceptance: settings.targetAcceptance, initialStepSize: 0.5)
        nuts.adaptMetric = settings.adaptMetric && settings.warmup >= 20
        nuts.metricPriorWeight = settings.metricPriorWeight ?? Double(layout.count)
        let density = posterior.forSampling(precision: settings.samplingPrecision, footprintTolerance: settings.samplingFootprintTolerance)
        let sample = try nuts.sample(density, initial: y, warmup: settings.warmup,
                                     draws: settings.draws, seed: seed,
                                     chain: stream, metric: settings.denseMetric ? .dense : .diagonal,
                                     initialInverseMetric: metric)
        evaluations += (sample.warmupStats + sample.stats).reduce(0) { $0 + $1.nLeapfrog }
        var unconstrainedDraws = sample.draws
        var allStats = sample.stats
        var thinning = 1
        // The kept rows, constrained (the chain written out and the one the target is checked on).
        func keptChain() -> [[Double]] { thinned(unconstrainedDraws, by: thinning).map { posterior.constrain($0) } }
        var met = settings.minESS <= 0 || meetsTarget(keptChain(), minESS: settings.minESS)
        if !met, settings.draws >= 4 {  // (R̂ and ESS need at least 4 kept draws)
            // Continue the same chain: no warm-up, the adapted step size and metric, a new random
            // stream per extension (streams above 2⁴⁰ are not used by patch ids).
            var more = NUTS(maxTreeDepth: settings.maxTreeDepth, targetAcceptance: settings.targetAcceptance,
                            initialStepSize: sample.stepSize)
            more.adaptStepSize = false
            more.adaptMetric = false
            while !met, thinning < settings.maxThinning {
                thinning += 1
                let next = try more.sample(density, initial: unconstrainedDraws.last!, warmup: 0, draws: settings.draws, seed: seed,
                                           chain: stream &+ (UInt64(thinning - 1) << 40),
                                           metric: settings.denseMetric ? .dense : .diagonal, initialInverseMetric: sample.inverseMetric)
                evaluations += next.stats.reduce(0) { $0 + $1.nLeapfrog }
                allStats += next.stats
                unconstrainedDraws += next.draws
                met = meetsTarget(keptChain(), minESS: settings.minESS)
            }
        }
        let chain = keptChain()
        let keptStats = thinnedStats(allStats, by: thinning)
        let final = chain.last ?? posterior.constrain(y)
        let r = try posterior.kernel.evaluate(final)
        // The adapted inverse metric is the warm-up's covariance estimate; keep the better of it
        // and the kept draws' covariance (when there are enough draws for a stable estimate).
        var cov = sample.inverseMetric
        if unconstrainedDraws.count >= 4 * layout.count + 10 {
            let empirical = sampleCovariance(unconstrainedDraws)
            if isPositiveDefinite(empirical) { cov = empirical }
        }
        let stats = PatchSamplerStats(stepSize: sample.stepSize, acceptStat: keptStats.map(\.acceptStat),
                                      treeDepth: keptStats.map(\.treeDepth), divergent: keptStats.map(\.divergent),
                                      energy: keptStats.map(\.energy), logLikelihood: keptStats.map(\.logDensity),
                                      nLeapfrog: keptStats.map(\.nLeapfrog), warmupLeapfrog: sample.warmupStats.map(\.nLeapfrog),
                                      thinning: thinning, metESSTarget: met)
        return PatchFitResult(final: final, covariances: blocks(cov, layout), chain: chain, stats: stats,
                              logLikelihood: r.logLikelihood, chi2: r.chi2, evaluations: evaluations, optimizerConverged: converged)
    }

    /// Every k-th row of `rows`, ending with the last (rows k−1, 2k−1, …): `rows.count / k` rows.
    static func thinned<T>(_ rows: [T], by k: Int) -> [T] {
        k <= 1 ? rows : stride(from: k - 1, to: rows.count, by: k).map { rows[$0] }
    }

    /// The statistics of the kept rows of a chain thinned by k: each kept transition's own, with
    /// `nLeapfrog` summed over the k transitions it stands for and `divergent` true when any of
    /// them diverged (so a thinned chain's divergence rate does not hide the transitions dropped).
    static func thinnedStats(_ stats: [DrawStats], by k: Int) -> [DrawStats] {
        guard k > 1 else { return stats }
        return stride(from: k - 1, to: stats.count, by: k).map { end in
            let group = stats[(end - k + 1)...end]
            var s = stats[end]
            s.nLeapfrog = group.reduce(0) { $0 + $1.nLeapfrog }
            s.divergent = group.contains { $0.divergent }
            return s
        }
    }

    /// Whether every column of `chain` (draws × parameters) has split R̂ ≤ `FitSettings.rHatLimit` and ESS ≥ `minESS`
    /// (Stan's estimators, as `postprocess` computes them for one pass). Constant columns (a
    /// parameter the data do not move, e.g. one held at a bound) count as met.
    static func meetsTarget(_ chain: [[Double]], minESS: Double) -> Bool {
        guard chain.count >= 4, let width = chain.first?.count else { return false }
        for j in 0..<width {
            let v = chain.map { $0[j] }
            guard let lo = v.min(), let hi = v.max(), hi > lo else { continue }
            let rHat = Diagnostics.splitRHat([v]), ess = Diagnostics.effectiveSampleSize([v])
            if !(rHat <= FitSettings.rHatLimit && ess >= minESS) { return false }
        }
        return true
    }

    /// L-BFGS over the coordinates `indices` of `y` alone, the others held; returns the full
    /// vector, with the iterations and evaluations used.
    static func maximizeSubset(_ posterior: PatchPosterior, at y: [Double], indices: [Int], lbfgs: LBFGS,
                               maxIterations: Int) throws -> (x: [Double], iterations: Int, evaluations: Int, status: OptimizationStatus) {
        guard !indices.isEmpty else { return (y, 0, 0, .gradientConverged) }
        let sub = ClosureDensity(dimension: indices.count) { z in
            var full = y
            for (k, i) in indices.enumerated() { full[i] = z[k] }
            let (v, g) = try posterior.logDensityAndGradient(full)
            return (v, indices.map { g[$0] })
        }
        let z0 = indices.map { y[$0] }
        let scales = try curvatureScales(sub, at: z0)
        var opt = lbfgs
        opt.maxIterations = maxIterations
        let r = try opt.maximize(sub, initial: z0, scales: scales)
        var full = y
        for (k, i) in indices.enumerated() { full[i] = r.x[k] }
        return (full, r.iterations, r.evaluations + indices.count + 1, r.status)
    }

    static func blockSize(_ layout: ParameterLayout, _ s: Int) -> Int {
        (s + 1 < layout.sourceCount ? layout.offsets[s + 1] : layout.count) - layout.offsets[s]
    }

    static func blocks(_ m: Matrix, _ layout: ParameterLayout) -> [[Double]] {
        (0..<layout.sourceCount).map { s in
            let o = layout.offsets[s], n = blockSize(layout, s)
            var b = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in 0..<n { b[i * n + j] = m[o + i, o + j] } }
            return b
        }
    }

    static func sampleCovariance(_ draws: [[Double]]) -> Matrix {
        let n = draws[0].count, m = Double(draws.count)
        var mean = [Double](repeating: 0, count: n)
        for d in draws { for i in 0..<n { mean[i] += d[i] / m } }
        var c = Matrix.zeros(n, n)
        for d in draws {
            for i in 0..<n { for j in 0...i { c[i, j] += (d[i] - mean[i]) * (d[j] - mean[j]) / (m - 1) } }
        }
        for i in 0..<n { for j in 0..<i { c[j, i] = c[i, j] } }
        return c
    }

    static func isPositiveDefinite(_ m: Matrix) -> Bool {
        guard m.values.allSatisfy(\.isFinite) else { return false }
        return (try? Cholesky(m)) != nil
    }
}
