import RealModule
import TesseraLinAlg
import TesseraSupport

/// The form of the Euclidean mass matrix M used by HMC/NUTS.
public enum MetricKind: Sendable, Equatable {
    /// M⁻¹ diagonal (Stan's `diag_e`).
    case diagonal
    /// M⁻¹ dense (Stan's `dense_e`).
    case dense
}

/// A Euclidean metric stored, as in Stan, through its inverse M⁻¹ (which adaptation sets to the
/// posterior covariance estimate). Kinetic energy K(p) = ½ pᵀ M⁻¹ p; momenta p ~ N(0, M).
///
/// Dense case: with the Cholesky factor M⁻¹ = L Lᵀ, a momentum is p = L⁻ᵀ z (z standard normal),
/// whose covariance is L⁻ᵀ L⁻¹ = M, exactly as Stan's `dense_e_metric::sample_p`.
struct EuclideanMetric {
    let kind: MetricKind
    /// M⁻¹ (full storage even when diagonal, for reporting).
    let inverseMetric: Matrix
    private let diag: [Double]
    private let invSqrtDiag: [Double]
    private let cholesky: Cholesky?

    init(kind: MetricKind, inverseMetric: Matrix) throws {
        self.kind = kind
        let n = inverseMetric.rows
        switch kind {
        case .diagonal:
            let d = inverseMetric.diagonalValues
            guard d.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw InferenceError.invalidArgument("inverse metric diagonal must be positive and finite")
            }
            self.diag = d
            self.invSqrtDiag = d.map { 1 / Double.sqrt($0) }
            self.cholesky = nil
            self.inverseMetric = Matrix.diagonal(d)
        case .dense:
            // Symmetrise from the lower triangle.
            var m = inverseMetric
            for i in 0..<n { for j in 0..<i { m[i, j] = 0.5 * (inverseMetric[i, j] + inverseMetric[j, i]); m[j, i] = m[i, j] } }
            self.cholesky = try Cholesky(m)
            self.diag = []
            self.invSqrtDiag = []
            self.inverseMetric = m
        }
    }

    /// dτ/dp = M⁻¹ p (the velocity, Stan's `dtau_dp`).
    func velocity(_ p: [Double]) -> [Double] {
        switch kind {
        case .diagonal:
            var v = p
            for i in 0..<p.count { v[i] *= diag[i] }
            return v
        case .dense:
            return inverseMetric.symmetricMultiply(p)
        }
    }

    func kinetic(_ p: [Double]) -> Double { 0.5 * dot(p, velocity(p)) }

    func sampleMomentum(_ rng: inout RandomSource, dimension n: Int) -> [Double] {
        var z = [Double](repeating: 0, count: n)
        for i in 0..<n { z[i] = rng.normal() }
        switch kind {
        case .diagonal:
            for i in 0..<n { z[i] *= invSqrtDiag[i] }
            return z
        case .dense:
            return (try? cholesky!.solveUpper(z)) ?? z
        }
    }
}

/// Welford running mean and (co)variance, used for the windowed metric estimate.
struct WelfordEstimator {
    let dense: Bool
    private(set) var count = 0
    private var mean: [Double]
    private var m2: [Double]  // n×n (dense) or n (diagonal)
    let n: Int

    init(dimension: Int, dense: Bool) {
        self.dense = dense
        n = dimension
        mean = [Double](repeating: 0, count: dimension)
        m2 = [Double](repeating: 0, count: dense ? dimension * dimension : dimension)
    }

    mutating func restart() {
        count = 0
        for i in 0..<mean.count { mean[i] = 0 }
        for i in 0..<m2.count { m2[i] = 0 }
    }

    mutating func add(_ x: [Double]) {
        count += 1
        var delta = [Double](repeating: 0, count: n)
        for i in 0..<n { delta[i] = x[i] - mean[i]; mean[i] += delta[i] / Double(count) }
        if dense {
            for i in 0..<n { for j in 0..<n { m2[i * n + j] += (x[i] - mean[i]) * delta[j] } }
        } else {
            for i in 0..<n { m2[i] += (x[i] - mean[i]) * delta[i] }
        }
    }

    /// Sample (co)variance with the n − 1 denominator, regularised towards 10⁻³·I as in Stan:
    /// Σ̂ ← n/(n+5) Σ̂ + 10⁻³ · 5/(n+5) · I.
    func regularisedCovariance() -> Matrix {
        let c = Double(count)
        let w = c / (c + 5)
        let shrink = 1e-3 * 5 / (c + 5)
        if dense {
            var m = Matrix.zeros(n, n)
            for i in 0..<n { for j in 0..<n { m[i, j] = w * m2[i * n + j] / (c - 1) + (i == j ? shrink : 0) } }
            return m
        } else {
            return Matrix.diagonal((0..<n).map { w * m2[$0] / (c - 1) + shrink })
        }
    }
}

/// Stan's windowed adaptation schedule (`windowed_adaptation`): an initial fast buffer (step size
/// only), a sequence of slow windows of doubling size in which draws feed the metric estimate
/// (the last one stretched to reach the terminal buffer), then a terminal fast buffer.
struct AdaptationWindows {
    let numWarmup: Int
    private(set) var initBuffer: Int
    private(set) var termBuffer: Int
    private(set) var baseWindow: Int
    private(set) var counter = 0
    private var windowSize: Int
    private var nextWindow: Int
    /// false when warm-up is too short (< 20) to estimate a metric.
    let estimatesMetric: Bool

    init(numWarmup: Int, initBuffer: Int, termBuffer: Int, baseWindow: Int) {
        self.numWarmup = numWarmup
        var ib = initBuffer, tb = termBuffer, bw = baseWindow
        if numWarmup < 20 {
            estimatesMetric = false
        } else {
            estimatesMetric = true
            if ib + bw + tb > numWarmup {
                ib = Int(0.15 * Double(numWarmup))
                tb = Int(0.1 * Double(numWarmup))
                bw = numWarmup - (ib + tb)
            }
        }
        self.initBuffer = ib
        self.termBuffer = tb
        self.baseWindow = bw
        windowSize = bw
        nextWindow = ib + bw - 1
    }

    var inAdaptationWindow: Bool {
        estimatesMetric && counter >= initBuffer && counter < numWarmup - termBuffer && counter != numWarmup
    }

    var atEndOfWindow: Bool {
        estimatesMetric && counter == nextWindow && counter != numWarmup
    }

    mutating func computeNextWindow() {
        if nextWindow == numWarmup - termBuffer - 1 { return }
        windowSize *= 2
        nextWindow = counter + windowSize
        if nextWindow != numWarmup - termBuffer - 1 {
            let nextBoundary = nextWindow + 2 * windowSize
            if nextBoundary >= numWarmup - termBuffer { nextWindow = numWarmup - termBuffer - 1 }
        }
    }

    mutating func advance() { counter += 1 }
}

/// Nesterov dual averaging of log step size (Hoffman & Gelman 2014, §3.2; Stan's
/// `stepsize_adaptation`), driving the mean acceptance statistic towards `delta`.
struct DualAveraging {
    var mu: Double
    let delta: Double, gamma: Double, kappa: Double, t0: Double
    private var counter = 0.0
    private var sBar = 0.0
    private var xBar = 0.0

    init(mu: Double, delta: Double, gamma: Double, kappa: Double, t0: Double) {
        self.mu = mu; self.delta = delta; self.gamma = gamma; self.kappa = kappa; self.t0 = t0
    }

    mutating func restart() { counter = 0; sBar = 0; xBar = 0 }

    /// One update; returns the next step size exp(x).
    mutating func learn(acceptStat: Double) -> Double {
        counter += 1
        let a = Swift.min(acceptStat, 1)
        let eta = 1 / (counter + t0)
        sBar = (1 - eta) * sBar + eta * (delta - a)
        let x = mu - sBar * Double.sqrt(counter) / gamma
        let xEta = Double.pow(counter, -kappa)
        xBar = (1 - xEta) * xBar + xEta * x
        return Double.exp(x)
    }

    /// The final step size exp(x̄).
    var finalStepSize: Double { Double.exp(xBar) }
}
