import Foundation

/// How `SersicMixture.fit` builds a table. The defaults generate the committed table
/// (`Resources/sersic_mixture.json`, via `tessera sersic-table`); every value is recorded in the
/// table's provenance so a table can be regenerated exactly.
public struct SersicMixtureFitSettings: Sendable, Codable, Equatable {
    /// Number of Gaussian components K.
    public var componentCount: Int
    /// Smallest and largest component standard deviation, in units of r_half; the K radii are
    /// log-spaced between them. Flux inside the smallest (outside the largest) is lumped into the
    /// end components, which is harmless for 0.1–5 r_half as long as the ends lie well beyond.
    public var minRadius: Double
    public var maxRadius: Double
    /// Sérsic indices at which amplitudes are fitted (the spline nodes), ascending.
    public var nodes: [Double]
    /// Enclosed-flux curve fitted at `fitRadiusCount` log-spaced radii over `fitRadii` (r_half).
    public var fitRadiusMin: Double
    public var fitRadiusMax: Double
    public var fitRadiusCount: Int
    /// Radii (r_half) inside which residuals get weight 1; outside, `outerWeight`. Residuals are
    /// relative, (L_mix − L)/L, so the core is fitted as closely as the wings.
    public var coreRadiusMin: Double
    public var coreRadiusMax: Double
    public var outerWeight: Double
    /// Ridge ε·‖a‖² added to the (row-averaged) normal equations: makes each node's problem
    /// strictly convex, so its solution is unique and moves continuously with n.
    public var ridge: Double

    public init(componentCount: Int = 20, minRadius: Double = 0.005, maxRadius: Double = 30,
                nodes: [Double] = SersicMixtureFitSettings.defaultNodes,
                fitRadiusMin: Double = 0.02, fitRadiusMax: Double = 40, fitRadiusCount: Int = 300,
                coreRadiusMin: Double = 0.08, coreRadiusMax: Double = 6, outerWeight: Double = 0.1,
                ridge: Double = 1e-10) {
        self.componentCount = componentCount; self.minRadius = minRadius; self.maxRadius = maxRadius
        self.nodes = nodes
        self.fitRadiusMin = fitRadiusMin; self.fitRadiusMax = fitRadiusMax; self.fitRadiusCount = fitRadiusCount
        self.coreRadiusMin = coreRadiusMin; self.coreRadiusMax = coreRadiusMax; self.outerWeight = outerWeight
        self.ridge = ridge
    }

    /// n = 0.70 … 6.20: spacing 0.025 below 0.9 and 0.05 below 1.5 (where the amplitudes bend
    /// fastest, as the profile approaches a single Gaussian at n = 0.5), 0.1 to 3, 0.2 above.
    /// (With 0.05 down to 0.7 the spline undershot to −1e-3 near n = 0.77; now ≈ −3e-4.)
    public static let defaultNodes: [Double] =
        (28..<36).map { Double($0) / 40 } + (18..<30).map { Double($0) / 20 }
        + (15..<30).map { Double($0) / 10 } + (15...31).map { Double($0) / 5 }

    /// The K log-spaced component radii (r_half).
    public var radii: [Double] {
        guard componentCount > 1 else { return [minRadius] }
        let step = log(maxRadius / minRadius) / Double(componentCount - 1)
        // The last radius is set exactly, not as minRadius·exp(step·(K−1)), which rounds.
        return (0..<componentCount).map { $0 == componentCount - 1 ? maxRadius : minRadius * exp(step * Double($0)) }
    }

    func validate() throws {
        func bad(_ s: String) -> SceneModelError { .invalidArgument("Sersic mixture fit: \(s)") }
        guard componentCount >= 2, componentCount <= 200 else { throw bad("componentCount must be in 2...200") }
        guard minRadius > 0, maxRadius > minRadius, maxRadius.isFinite else { throw bad("need 0 < minRadius < maxRadius") }
        guard nodes.count >= 2, zip(nodes, nodes.dropFirst()).allSatisfy({ $0 < $1 }), nodes[0] > 0.3 else {
            throw bad("nodes must be at least two strictly ascending Sersic indices above 0.3")
        }
        guard fitRadiusMin > 0, fitRadiusMax > fitRadiusMin, fitRadiusCount >= componentCount else {
            throw bad("need 0 < fitRadiusMin < fitRadiusMax and fitRadiusCount >= componentCount")
        }
        guard outerWeight >= 0, ridge > 0, ridge.isFinite else { throw bad("need outerWeight >= 0 and ridge > 0") }
    }
}

/// The enclosed-flux accuracy of a mixture against the exact Sérsic profile on a grid:
/// max over the grid of |L_mix(<R) − L(<R)| / L(<R).
public struct SersicMixtureAccuracy: Sendable, Codable, Equatable {
    public var maxRelativeError: Double
    /// Where the maximum occurs: Sérsic index and radius (r_half).
    public var atSersic: Double
    public var atRadius: Double
    /// The grid: `sersicCount` evenly spaced n over `sersicMin...sersicMax` (so most points lie
    /// between spline nodes) × `radiusCount` log-spaced R over `radiusMin...radiusMax` (r_half).
    public var sersicMin: Double
    public var sersicMax: Double
    public var sersicCount: Int
    public var radiusMin: Double
    public var radiusMax: Double
    public var radiusCount: Int
    /// The most negative interpolated amplitude on the n grid (0 when none is negative): the
    /// node amplitudes are ≥ 0, but the spline may undershoot slightly between nodes.
    public var minAmplitude: Double
    /// max |Σ_k a_k(n) − 1| on the n grid.
    public var maxSumDeviation: Double
}

extension SersicMixture {
    /// Fraction of the total flux within radius `r` (units of r_half) of the mixture at index n:
    /// Σ_k a_k(n) (1 − exp(−r² / 2 r_k²)) (a circular Gaussian of std σ encloses 1 − e^(−R²/2σ²)).
    public func enclosedFraction(radius r: Double, sersic n: Double) -> Double {
        let a = amplitudes(sersic: n).values
        return Self.enclosed(amplitudes: a, radii: radii, r: r)
    }

    static func enclosed(amplitudes a: [Double], radii: [Double], r: Double) -> Double {
        var s = 0.0
        for k in radii.indices { s += a[k] * -expm1(-r * r / (2 * radii[k] * radii[k])) }
        return s
    }

    /// Measures the enclosed-flux error against the exact profile on an n × R grid (defaults:
    /// the n ∈ [0.8, 6], R ∈ [0.1, 5] r_half). Use a grid whose n step does not divide
    /// the node spacing, so that the error between nodes is measured.
    public func accuracy(sersic: ClosedRange<Double> = 0.8...6, sersicCount: Int = 521,
                         radius: ClosedRange<Double> = 0.1...5, radiusCount: Int = 200) throws -> SersicMixtureAccuracy {
        guard sersicCount >= 2, radiusCount >= 2, radius.lowerBound > 0 else {
            throw SceneModelError.invalidArgument("accuracy grid needs at least 2×2 points and positive radii")
        }
        let rs = (0..<radiusCount).map {
            radius.lowerBound * pow(radius.upperBound / radius.lowerBound, Double($0) / Double(radiusCount - 1))
        }
        var result = SersicMixtureAccuracy(maxRelativeError: 0, atSersic: sersic.lowerBound, atRadius: rs[0],
                                           sersicMin: sersic.lowerBound, sersicMax: sersic.upperBound,
                                           sersicCount: sersicCount, radiusMin: radius.lowerBound,
                                           radiusMax: radius.upperBound, radiusCount: radiusCount,
                                           minAmplitude: 0, maxSumDeviation: 0)
        for i in 0..<sersicCount {
            let n = sersic.lowerBound + (sersic.upperBound - sersic.lowerBound) * Double(i) / Double(sersicCount - 1)
            let profile = try SersicProfile(n: n)
            let a = amplitudes(sersic: n).values
            result.minAmplitude = min(result.minAmplitude, a.min() ?? 0)
            result.maxSumDeviation = max(result.maxSumDeviation, abs(a.reduce(0, +) - 1))
            for r in rs {
                let exact = profile.enclosedFraction(radius: r)
                let err = abs(Self.enclosed(amplitudes: a, radii: radii, r: r) - exact) / exact
                if !(err <= result.maxRelativeError) {
                    result.maxRelativeError = err; result.atSersic = n; result.atRadius = r
                }
            }
        }
        return result
    }

    /// Fits a table to the exact Sérsic enclosed-flux curve.
    ///
    /// At each node n_i, the amplitudes minimise the weighted relative residual
    ///   Σ_j w_j² (Σ_k a_k (1 − e^(−R_j²/2r_k²)) − L_n(R_j))² / L_n(R_j)²  / J  + ε ‖a‖²
    /// subject to a_k ≥ 0 and Σ_k a_k = 1 (the flux parameter is the total flux), solved exactly by
    /// a primal active-set method. Non-negative amplitudes keep every component a physical light
    /// distribution (a Sérsic profile with n ≥ 1/2 is a positive scale mixture of Gaussians, so
    /// nothing is lost), and the ridge makes each node's solution unique and continuous in n, so
    /// the natural spline through the nodes is smooth; `accuracy()` checks it between nodes. The
    /// returned table carries its provenance, including `accuracy()` on the default issue range
    /// with `accuracySersicCount` × `accuracyRadiusCount` points.
    public static func fit(settings: SersicMixtureFitSettings = SersicMixtureFitSettings(),
                           generator: String = "SersicMixture.fit",
                           accuracySersicCount: Int = 521, accuracyRadiusCount: Int = 200) throws -> SersicMixture {
        try settings.validate()
        let radii = settings.radii
        let k = radii.count
        let jCount = settings.fitRadiusCount
        let fitR = (0..<jCount).map {
            settings.fitRadiusMin * pow(settings.fitRadiusMax / settings.fitRadiusMin, Double($0) / Double(jCount - 1))
        }
        // Basis: enclosed fraction of each unit-flux component at each fit radius.
        let basis = fitR.map { r in radii.map { s in -expm1(-r * r / (2 * s * s)) } }
        var rows: [[Double]] = []
        for n in settings.nodes {
            let profile = try SersicProfile(n: n)
            var h = [Double](repeating: 0, count: k * k)
            var g = [Double](repeating: 0, count: k)
            for (j, r) in fitR.enumerated() {
                let y = profile.enclosedFraction(radius: r)
                let core = r >= settings.coreRadiusMin && r <= settings.coreRadiusMax
                let w = (core ? 1 : settings.outerWeight) / y
                let ww = w * w / Double(jCount)
                let row = basis[j]
                for p in 0..<k {
                    g[p] += ww * row[p] * y
                    for q in 0...p { h[p * k + q] += ww * row[p] * row[q] }
                }
            }
            for p in 0..<k {
                h[p * k + p] += settings.ridge
                for q in 0..<p { h[q * k + p] = h[p * k + q] }
            }
            rows.append(try SimplexQuadraticProgram.solve(h: h, g: g, size: k, node: n))
        }
        var mixture = try SersicMixture(radii: radii, nodes: settings.nodes, amplitudes: rows)
        let accuracy = try mixture.accuracy(sersicCount: accuracySersicCount, radiusCount: accuracyRadiusCount)
        mixture.provenance = SersicMixtureProvenance(
            generator: generator,
            method: "Per-node constrained least squares (a_k >= 0, sum a_k = 1, ridge) on the relative "
                + "enclosed-flux residual against the exact Sersic profile (b_n from P(2n, b_n) = 1/2); "
                + "natural cubic spline in n between nodes.",
            settings: settings, accuracy: accuracy)
        return mixture
    }
}

/// min ½ aᵀHa − gᵀa subject to a ≥ 0 and Σ a = 1, for a small symmetric positive-definite H
/// (row-major, size × size), by a primal active-set method started from the uniform point.
enum SimplexQuadraticProgram {
    static func solve(h: [Double], g: [Double], size k: Int, node: Double) throws -> [Double] {
        var x = [Double](repeating: 1 / Double(k), count: k)
        var fixed = [Bool](repeating: false, count: k)
        let scale = max(g.map(abs).max() ?? 1, 1e-300)
        for _ in 0..<(100 * k) {
            let free = (0..<k).filter { !fixed[$0] }
            let m = free.count
            var sub = [Double](repeating: 0, count: m * m)
            for (a, p) in free.enumerated() { for (b, q) in free.enumerated() { sub[a * m + b] = h[p * k + q] } }
            guard let chol = choleskyFactor(sub, m) else {
                throw SceneModelError.invalidTable("fit at n = \(node): normal equations not positive definite")
            }
            let s1 = choleskySolve(chol, m, free.map { g[$0] })
            let s2 = choleskySolve(chol, m, [Double](repeating: 1, count: m))
            let nu = (s1.reduce(0, +) - 1) / s2.reduce(0, +)
            let xf = (0..<m).map { s1[$0] - nu * s2[$0] }
            if xf.allSatisfy({ $0 >= 0 }) {
                x = [Double](repeating: 0, count: k)
                for (a, p) in free.enumerated() { x[p] = xf[a] }
                // KKT: for a fixed (zero) component, the multiplier ∂f/∂a_p + ν must be ≥ 0.
                var worst = -1e-13 * scale, release = -1
                for p in 0..<k where fixed[p] {
                    var grad = -g[p]
                    for q in 0..<k { grad += h[p * k + q] * x[q] }
                    if grad + nu < worst { worst = grad + nu; release = p }
                }
                if release < 0 { return x }
                fixed[release] = false
            } else {
                // Step towards the equality-constrained optimum until a component reaches zero.
                var alpha = 1.0, blocking = -1
                for (a, p) in free.enumerated() where xf[a] < x[p] && xf[a] < 0 {
                    let t = x[p] / (x[p] - xf[a])
                    if t < alpha { alpha = t; blocking = p }
                }
                for (a, p) in free.enumerated() { x[p] += alpha * (xf[a] - x[p]) }
                if blocking >= 0 { x[blocking] = 0; fixed[blocking] = true }
            }
        }
        throw SceneModelError.invalidTable("fit at n = \(node): active-set iteration did not converge")
    }

    /// Lower Cholesky factor (row-major), or nil when not positive definite.
    static func choleskyFactor(_ a: [Double], _ n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for p in 0..<j { s -= l[i * n + p] * l[j * n + p] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        return l
    }

    static func choleskySolve(_ l: [Double], _ n: Int, _ b: [Double]) -> [Double] {
        var y = b
        for i in 0..<n {
            for p in 0..<i { y[i] -= l[i * n + p] * y[p] }
            y[i] /= l[i * n + i]
        }
        var i = n - 1
        while i >= 0 {
            for p in (i + 1)..<n { y[i] -= l[p * n + i] * y[p] }
            y[i] /= l[i * n + i]
            i -= 1
        }
        return y
    }
}
