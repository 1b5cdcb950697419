import RealModule
import TesseraLinAlg
import TesseraSupport

/// Per-draw sampler statistics, named after Stan's output columns.
public struct DrawStats: Sendable, Equatable {
    /// `accept_stat__`: mean Metropolis acceptance probability min(1, e^{H₀−H}) over the trajectory's
    /// leapfrog states (what dual averaging adapts).
    public var acceptStat: Double
    /// `treedepth__`: number of tree doublings completed.
    public var treeDepth: Int
    /// `n_leapfrog__`: leapfrog steps (gradient evaluations) taken.
    public var nLeapfrog: Int
    /// `divergent__`: a leapfrog state had H − H₀ above `maxEnergyError` (or non-finite density).
    public var divergent: Bool
    /// `energy__`: the Hamiltonian H = −log p(q) + K(p) of the selected state.
    public var energy: Double
    /// `stepsize__`: the leapfrog step size used.
    public var stepSize: Double
    /// `lp__`: log density of the draw.
    public var logDensity: Double
}

/// The output of `NUTS.sample`.
public struct SampleResult: Sendable {
    /// Post-warm-up draws, `draws[i]` a point of the density's dimension (unconstrained space).
    public var draws: [[Double]]
    /// Statistics for each post-warm-up draw.
    public var stats: [DrawStats]
    /// Statistics for each warm-up iteration.
    public var warmupStats: [DrawStats]
    /// The (adapted) step size used for the post-warm-up draws.
    public var stepSize: Double
    /// The (adapted) inverse metric M⁻¹ used for the post-warm-up draws (diagonal matrix for
    /// `.diagonal`).
    public var inverseMetric: Matrix

    /// Number of divergent post-warm-up transitions.
    public var divergences: Int { stats.reduce(0) { $0 + ($1.divergent ? 1 : 0) } }
    /// Mean accept_stat over post-warm-up draws.
    public var meanAcceptStat: Double {
        stats.isEmpty ? .nan : stats.reduce(0) { $0 + $1.acceptStat } / Double(stats.count)
    }
    /// Column `i` of the draws (one parameter's chain).
    public func chain(_ i: Int) -> [Double] { draws.map { $0[i] } }
}

/// The No-U-Turn Sampler with multinomial trajectory sampling and the generalised no-U-turn
/// criterion, following Stan's `base_nuts` (Hoffman & Gelman 2014; Betancourt 2017, "A Conceptual
/// Introduction to Hamiltonian Monte Carlo", App. A), with a leapfrog integrator and a diagonal or
/// dense Euclidean metric.
///
/// Warm-up follows Stan: the step size is initialised by Stan's doubling/halving heuristic and then
/// adapted by Nesterov dual averaging (target `targetAcceptance`, γ = 0.05, κ = 0.75, t₀ = 10,
/// μ = log(10 ε)); the inverse metric is estimated in Stan's windows (initial fast buffer 75,
/// doubling slow windows from 25, terminal fast buffer 50) with the regularised (co)variance
/// n/(n+5) Σ̂ + 10⁻³·5/(n+5) I, and after each slow window the step size is re-initialised and
/// dual averaging restarted. At the end of warm-up the step size is set to exp(x̄).
///
/// Everything is deterministic given `seed` (one `RandomSource(seed:)` stream).
public struct NUTS: Sendable {
    public var maxTreeDepth = 10
    /// Dual-averaging target for the mean accept_stat (Stan's `delta`).
    public var targetAcceptance = 0.8
    /// Starting step size (before the heuristic initialisation).
    public var initialStepSize = 1.0
    /// A transition is divergent when H − H₀ exceeds this (Stan: 1000).
    public var maxEnergyError = 1000.0
    public var adaptStepSize = true
    public var adaptMetric = true
    public var initialBuffer = 75
    public var terminalBuffer = 50
    public var baseWindow = 25
    /// Weight, in pseudo-draws, of the current metric in each window's new estimate:
    /// M⁻¹ ← (n Σ̂ + k M⁻¹_current) / (n + k) after Stan's regularisation of Σ̂, with n the
    /// window's draws. 0 (the default) is Stan's rule, which replaces the metric by the window's
    /// estimate alone; a dense estimate from fewer draws than dimensions is then singular but for
    /// Stan's 10⁻³ ridge, which is far from the posterior's scale when parameters are in physical
    /// units (fluxes in nJy). A starting metric from a Laplace covariance is worth about as many
    /// draws as dimensions, so k ≈ dimension keeps its information until the windows have more.
    public var metricPriorWeight = 0.0
    public var gamma = 0.05
    public var kappa = 0.75
    public var t0 = 10.0

    public init() {}

    public init(maxTreeDepth: Int = 10, targetAcceptance: Double = 0.8, initialStepSize: Double = 1.0) {
        self.maxTreeDepth = maxTreeDepth
        self.targetAcceptance = targetAcceptance
        self.initialStepSize = initialStepSize
    }

    /// Run one chain: `warmup` adaptation iterations then `draws` sampling iterations.
    ///
    /// - Parameters:
    ///   - initial: starting point (unconstrained), where the log-density must be finite.
    ///   - seed, chain: the random stream is `RandomSource(seed: seed, stream: chain)`, so chains
    ///     run on different ranks from one recorded seed are independent and reproducible.
    ///   - metric: `.diagonal` or `.dense` Euclidean metric.
    ///   - initialInverseMetric: starting M⁻¹ (e.g. a covariance from `LBFGS`/`laplaceCovariance`);
    ///     identity when nil. For `.diagonal` only its diagonal is used.
    public func sample<D: LogDensity>(
        _ density: D, initial: [Double], warmup: Int, draws: Int, seed: UInt64, chain: UInt64 = 0,
        metric: MetricKind = .diagonal, initialInverseMetric: Matrix? = nil
    ) throws -> SampleResult {
        let n = density.dimension
        guard initial.count == n else { throw InferenceError.dimensionMismatch(expected: n, got: initial.count) }
        guard warmup >= 0, draws >= 0 else { throw InferenceError.invalidArgument("warmup and draws must be ≥ 0") }
        guard initialStepSize > 0, initialStepSize.isFinite else {
            throw InferenceError.invalidArgument("initialStepSize must be positive")
        }
        if let m = initialInverseMetric, m.rows != n || m.columns != n {
            throw InferenceError.dimensionMismatch(expected: n, got: m.rows)
        }
        var state = Transition(density: density, nuts: self, rng: RandomSource(seed: seed, stream: chain),
                               metric: try EuclideanMetric(kind: metric, inverseMetric: initialInverseMetric ?? .identity(n)),
                               stepSize: initialStepSize)
        var z = try state.makePoint(initial)
        guard z.logDensity.isFinite, allFinite(z.gradient) else { throw InferenceError.nonFiniteInitialDensity }

        if adaptStepSize { state.initStepSize(z) }
        var dual = DualAveraging(mu: Double.log(10 * state.stepSize), delta: targetAcceptance,
                                 gamma: gamma, kappa: kappa, t0: t0)
        var windows = AdaptationWindows(numWarmup: warmup, initBuffer: initialBuffer,
                                         termBuffer: terminalBuffer, baseWindow: baseWindow)
        var estimator = WelfordEstimator(dimension: n, dense: metric == .dense)

        var warmupStats: [DrawStats] = []
        warmupStats.reserveCapacity(warmup)
        for _ in 0..<warmup {
            let s = state.transition(&z)
            warmupStats.append(s)
            if adaptStepSize { state.stepSize = dual.learn(acceptStat: s.acceptStat) }
            if adaptMetric {
                if windows.inAdaptationWindow { estimator.add(z.q) }
                if windows.atEndOfWindow {
                    windows.computeNextWindow()
                    if estimator.count >= 2 {
                        var estimate = estimator.regularisedCovariance()
                        if metricPriorWeight > 0 {
                            let n = Double(estimator.count), k = metricPriorWeight
                            let current = state.metric.inverseMetric
                            for i in 0..<estimate.rows {
                                for j in 0..<estimate.columns where metric == .dense || i == j {
                                    estimate[i, j] = (n * estimate[i, j] + k * current[i, j]) / (n + k)
                                }
                            }
                        }
                        if let m = try? EuclideanMetric(kind: metric, inverseMetric: estimate) { state.metric = m }
                    }
                    estimator.restart()
                    if adaptStepSize {
                        state.initStepSize(z)
                        dual.mu = Double.log(10 * state.stepSize)
                        dual.restart()
                    }
                }
                windows.advance()
            }
        }
        if adaptStepSize && warmup > 0 { state.stepSize = dual.finalStepSize }

        var out: [[Double]] = []
        var stats: [DrawStats] = []
        out.reserveCapacity(draws)
        stats.reserveCapacity(draws)
        for _ in 0..<draws {
            let s = state.transition(&z)
            out.append(z.q)
            stats.append(s)
        }
        return SampleResult(draws: out, stats: stats, warmupStats: warmupStats, stepSize: state.stepSize,
                            inverseMetric: state.metric.inverseMetric)
    }
}

/// A point in phase space with its cached log-density and gradient.
struct PhasePoint {
    var q: [Double]
    var p: [Double]
    var logDensity: Double
    var gradient: [Double]
}

/// The mutable machinery of one chain: density, metric, step size and generator.
struct Transition<D: LogDensity> {
    let density: D
    let nuts: NUTS
    var rng: RandomSource
    var metric: EuclideanMetric
    var stepSize: Double
    // Per-transition accumulators.
    private var nLeapfrog = 0
    private var sumMetroProb = 0.0
    private var divergent = false

    init(density: D, nuts: NUTS, rng: RandomSource, metric: EuclideanMetric, stepSize: Double) {
        self.density = density; self.nuts = nuts; self.rng = rng; self.metric = metric; self.stepSize = stepSize
    }

    func makePoint(_ q: [Double]) throws -> PhasePoint {
        let (v, g) = try density.logDensityAndGradient(q)
        return PhasePoint(q: q, p: [Double](repeating: 0, count: q.count), logDensity: v, gradient: g)
    }

    /// Evaluate the density at `z.q`; an error or NaN becomes log p = −∞ (Stan: V = +∞).
    func updateDensity(_ z: inout PhasePoint) {
        if let (v, g) = try? density.logDensityAndGradient(z.q), !v.isNaN {
            z.logDensity = v
            z.gradient = g
        } else {
            z.logDensity = -.infinity
        }
    }

    func hamiltonian(_ z: PhasePoint) -> Double {
        let h = -z.logDensity + metric.kinetic(z.p)
        return h.isNaN ? .infinity : h
    }

    /// One leapfrog step of size `eps` (negative to integrate backwards).
    func leapfrog(_ z: inout PhasePoint, _ eps: Double) {
        let n = z.q.count
        for i in 0..<n { z.p[i] += 0.5 * eps * z.gradient[i] }
        let v = metric.velocity(z.p)
        for i in 0..<n { z.q[i] += eps * v[i] }
        updateDensity(&z)
        for i in 0..<n { z.p[i] += 0.5 * eps * z.gradient[i] }
    }

    /// Stan's `init_stepsize`: double or halve the step size until the one-step acceptance
    /// probability crosses 0.8.
    mutating func initStepSize(_ z0: PhasePoint) {
        guard stepSize > 0, stepSize < 1e7, stepSize.isFinite else { return }
        let n = z0.q.count
        func deltaH(_ eps: Double, _ t: inout Transition) -> Double {
            var z = z0
            z.p = t.metric.sampleMomentum(&t.rng, dimension: n)
            let h0 = t.hamiltonian(z)
            t.leapfrog(&z, eps)
            return h0 - t.hamiltonian(z)
        }
        let logTarget = Double.log(0.8)
        let direction = deltaH(stepSize, &self) > logTarget ? 1.0 : -1.0
        for _ in 0..<100 {
            let dh = deltaH(stepSize, &self)
            if direction == 1 && !(dh > logTarget) { break }
            if direction == -1 && !(dh < logTarget) { break }
            let next = direction == 1 ? 2 * stepSize : 0.5 * stepSize
            if next > 1e7 || next < 1e-12 { break }
            stepSize = next
        }
    }

    /// Generalised no-U-turn criterion (Betancourt 2017): continue while both end velocities have
    /// positive projection on the summed momentum ρ.
    @inline(__always) func criterion(_ pSharpMinus: [Double], _ pSharpPlus: [Double], _ rho: [Double]) -> Bool {
        dot(pSharpPlus, rho) > 0 && dot(pSharpMinus, rho) > 0
    }

    /// The generalized no-U-turn checks when two adjacent trajectories are joined (Stan's
    /// `base_nuts`): across the whole (with `rho`, the summed momenta of both), and across each
    /// join — the left tree extended by the right's first momentum, the right tree extended by
    /// the left's last. Each side is (summed momenta, p♯ at its start, p♯ at its end, p at the
    /// end facing the other side).
    @inline(__always)
    func mergedTreePersists(rho: [Double], left: ([Double], [Double], [Double], [Double]),
                            right: ([Double], [Double], [Double], [Double])) -> Bool {
        guard criterion(left.1, right.2, rho) else { return false }
        var rhoExt = left.0
        for i in 0..<rhoExt.count { rhoExt[i] += right.3[i] }
        guard criterion(left.1, right.1, rhoExt) else { return false }
        rhoExt = right.0
        for i in 0..<rhoExt.count { rhoExt[i] += left.3[i] }
        return criterion(left.2, right.2, rhoExt)
    }

    /// One NUTS transition from `z` (replaced by the selected state); mirrors Stan's
    /// `base_nuts::transition`.
    mutating func transition(_ z: inout PhasePoint) -> DrawStats {
        let n = z.q.count
        z.p = metric.sampleMomentum(&rng, dimension: n)
        var zFwd = z, zBck = z, zSample = z, zPropose = z

        var pFwdFwd = z.p
        var pSharpFwdFwd = metric.velocity(z.p)
        var pFwdBck = z.p
        var pSharpFwdBck = pSharpFwdFwd
        var pBckFwd = z.p
        var pSharpBckFwd = pSharpFwdFwd
        var pBckBck = z.p
        var pSharpBckBck = pSharpFwdFwd
        var rho = z.p

        var logSumWeight = 0.0
        let h0 = hamiltonian(z)
        nLeapfrog = 0
        sumMetroProb = 0
        divergent = false
        var depth = 0
        let zero = [Double](repeating: 0, count: n)

        while depth < nuts.maxTreeDepth {
            var rhoFwd = zero, rhoBck = zero
            var valid: Bool
            var logSumWeightSubtree = -Double.infinity
            if rng.uniform() > 0.5 {
                var zz = zFwd
                rhoBck = rho
                pBckFwd = pFwdBck
                pSharpBckFwd = pSharpFwdBck
                valid = buildTree(depth, &zz, &zPropose, &pSharpFwdBck, &pSharpFwdFwd, &rhoFwd, &pFwdBck, &pFwdFwd,
                                  h0, 1, &logSumWeightSubtree)
                zFwd = zz
            } else {
                var zz = zBck
                rhoFwd = rho
                pFwdBck = pBckFwd
                pSharpFwdBck = pSharpBckFwd
                valid = buildTree(depth, &zz, &zPropose, &pSharpBckFwd, &pSharpBckBck, &rhoBck, &pBckFwd, &pBckBck,
                                  h0, -1, &logSumWeightSubtree)
                zBck = zz
            }
            if !valid { break }
            depth += 1

            // Biased progressive sampling at the top level.
            if logSumWeightSubtree > logSumWeight {
                zSample = zPropose
            } else if rng.uniform() < Double.exp(logSumWeightSubtree - logSumWeight) {
                zSample = zPropose
            }
            logSumWeight = logSumExp(logSumWeight, logSumWeightSubtree)

            for i in 0..<n { rho[i] = rhoBck[i] + rhoFwd[i] }
            let persist = mergedTreePersists(
                rho: rho, left: (rhoBck, pSharpBckBck, pSharpBckFwd, pBckFwd),
                right: (rhoFwd, pSharpFwdBck, pSharpFwdFwd, pFwdBck))
            if !persist { break }
        }

        z = zSample
        return DrawStats(acceptStat: nLeapfrog > 0 ? sumMetroProb / Double(nLeapfrog) : 0,
                         treeDepth: depth, nLeapfrog: nLeapfrog, divergent: divergent,
                         energy: hamiltonian(zSample), stepSize: stepSize, logDensity: zSample.logDensity)
    }

    /// Recursively build a subtree of 2^depth leapfrog steps in direction `sign`, multinomially
    /// sampling `zPropose` within it; returns false on divergence or a U-turn (Stan's `build_tree`).
    mutating func buildTree(
        _ depth: Int, _ z: inout PhasePoint, _ zPropose: inout PhasePoint,
        _ pSharpBeg: inout [Double], _ pSharpEnd: inout [Double], _ rho: inout [Double],
        _ pBeg: inout [Double], _ pEnd: inout [Double], _ h0: Double, _ sign: Double,
        _ logSumWeight: inout Double
    ) -> Bool {
        let n = z.q.count
        if depth == 0 {
            leapfrog(&z, sign * stepSize)
            nLeapfrog += 1
            let h = hamiltonian(z)
            if h - h0 > nuts.maxEnergyError { divergent = true }
            logSumWeight = logSumExp(logSumWeight, h0 - h)
            sumMetroProb += h0 - h > 0 ? 1 : Double.exp(h0 - h)
            zPropose = z
            pSharpBeg = metric.velocity(z.p)
            pBeg = z.p
            pSharpEnd = pSharpBeg
            for i in 0..<n { rho[i] += z.p[i] }
            pEnd = pBeg
            return !divergent
        }

        // Initial subtree.
        var logSumWeightInit = -Double.infinity
        var pInitEnd = [Double](repeating: 0, count: n)
        var pSharpInitEnd = pInitEnd
        var rhoInit = pInitEnd
        let validInit = buildTree(depth - 1, &z, &zPropose, &pSharpBeg, &pSharpInitEnd, &rhoInit, &pBeg, &pInitEnd,
                                  h0, sign, &logSumWeightInit)
        if !validInit { return false }

        // Final subtree.
        var zProposeFinal = z
        var logSumWeightFinal = -Double.infinity
        var pFinalBeg = pInitEnd
        var pSharpFinalBeg = pInitEnd
        var rhoFinal = [Double](repeating: 0, count: n)
        let validFinal = buildTree(depth - 1, &z, &zProposeFinal, &pSharpFinalBeg, &pSharpEnd, &rhoFinal, &pFinalBeg,
                                   &pEnd, h0, sign, &logSumWeightFinal)
        if !validFinal { return false }

        // Multinomial sample from the right subtree.
        let logSumWeightSubtree = logSumExp(logSumWeightInit, logSumWeightFinal)
        logSumWeight = logSumExp(logSumWeight, logSumWeightSubtree)
        if logSumWeightFinal > logSumWeightSubtree {
            zPropose = zProposeFinal
        } else if rng.uniform() < Double.exp(logSumWeightFinal - logSumWeightSubtree) {
            zPropose = zProposeFinal
        }

        var rhoSubtree = rhoInit
        for i in 0..<n { rhoSubtree[i] += rhoFinal[i]; rho[i] += rhoSubtree[i] }
        return mergedTreePersists(rho: rhoSubtree, left: (rhoInit, pSharpBeg, pSharpInitEnd, pInitEnd),
                                  right: (rhoFinal, pSharpFinalBeg, pSharpEnd, pFinalBeg))
    }
}
