import RealModule

/// The selection normalisation A(η): the probability that a lens drawn from hyperparameters η (with the survey's
/// fixed settings and source disc) is selected, estimated by Monte Carlo over `MockPopulation` draws.
///
/// The estimate uses draws 0..<`draws` of one `seed` for every η (common random numbers: the same standard
/// deviates are mapped through each η), so differences between nearby η are far less noisy than the binomial
/// error √(A(1 − A)/n) of each estimate, which is returned with it.
public struct SelectionFunction: Sendable {
    public var population: MockPopulation
    public var draws: Int
    public var seed: UInt64

    public init(population: MockPopulation, draws: Int, seed: UInt64) {
        self.population = population
        self.draws = draws
        self.seed = seed
    }

    /// Whether each of draws 0..<`draws` is selected under η: paired comparisons between two η use these.
    public func indicators(_ eta: PopulationHyperparameters) throws -> [Bool] {
        try eta.validate()
        var pop = population
        pop.hyperparameters = eta
        return try (0..<draws).map { i in
            if case .selected = try pop.draw(index: i, seed: seed) { return true }
            return false
        }
    }

    /// (A(η), its binomial standard error).
    public func estimate(_ eta: PopulationHyperparameters) throws -> (fraction: Double, standardError: Double) {
        try eta.validate()
        let selected = try indicators(eta).filter { $0 }.count
        let a = Double(selected) / Double(draws)
        return (a, (a * (1 - a) / Double(draws)).squareRoot())
    }
}

/// ln A(η) tabulated on a regular grid over the four inferred hyperparameters (α_sps, halo slope, halo
/// normalisation, halo scatter) and interpolated multilinearly (continuous, piecewise-constant gradient).
///
/// Built here from any estimator (in tests, `SelectionFunction.estimate`); the production build (space-filling
/// sample across MPI ranks, refinement where the interpolation error is largest, a stated tolerance, smooth
/// interpolation) is `InterpolatedSelection`, made by `tessera selection build`. `version` is recorded so a run
/// can refuse a table that changed.
public struct SelectionTable: Codable, Sendable, Equatable {
    public var version: String
    /// Grid values along (α_sps, halo slope, halo normalisation, halo scatter), each strictly increasing.
    public var axes: [[Double]]
    /// ln A at every node, the last axis fastest.
    public var logA: [Double]

    public init(version: String, axes: [[Double]], logA: [Double]) throws(LensInferenceError) {
        guard axes.count == 4, axes.allSatisfy({ !$0.isEmpty && zip($0, $0.dropFirst()).allSatisfy { $0 < $1 } }) else {
            throw .invalidParameter(name: "axes", value: Double(axes.count), allowed: "4 strictly increasing, non-empty axes")
        }
        let n = axes.reduce(1) { $0 * $1.count }
        guard logA.count == n, logA.allSatisfy({ $0.isFinite }) else {
            throw .invalidParameter(name: "logA", value: Double(logA.count), allowed: "\(n) finite values (A > 0 at every node)")
        }
        self.version = version
        self.axes = axes
        self.logA = logA
    }

    /// Evaluates `estimate` (returning A) at every node.
    public static func build(version: String, axes: [[Double]], base: PopulationHyperparameters,
                             estimate: (PopulationHyperparameters) throws -> Double) throws -> SelectionTable {
        var values: [Double] = []
        for a in axes[0] { for b in axes[1] { for c in axes[2] { for d in axes[3] {
            var eta = base
            eta.inferred = [a, b, c, d]
            values.append(Double.log(try estimate(eta)))
        } } } }
        return try SelectionTable(version: version, axes: axes, logA: values)
    }

    /// ln A(η) by multilinear interpolation; throws `.invalidParameter` naming the hyperparameter outside the grid.
    public func logA(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> Double {
        let c = try cell(eta.inferred)
        return cornerSum(lo: c.lo) { k, up in up == 1 ? c.t[k] : 1 - c.t[k] }
    }

    /// The grid cell holding x: per axis the lower node's index, the fractional position t in the cell and the
    /// cell's width (t = 0, width 1 on a singleton axis). On a face the cell to the right is used.
    func cell(_ x: [Double]) throws(LensInferenceError) -> (lo: [Int], t: [Double], width: [Double]) {
        let names = ["alphaSPS", "haloSlope", "haloNormalisation", "haloScatter"]
        var lo = [Int](repeating: 0, count: 4), t = [Double](repeating: 0, count: 4), width = [Double](repeating: 1, count: 4)
        for k in 0..<4 {
            let ax = axes[k]
            guard x[k] >= ax[0], x[k] <= ax[ax.count - 1] else {
                throw .invalidParameter(name: names[k], value: x[k], allowed: "inside the selection table [\(ax[0]), \(ax[ax.count - 1])]")
            }
            if ax.count == 1 { continue }
            var i = 0
            while i < ax.count - 2 && ax[i + 1] <= x[k] { i += 1 }
            lo[k] = i
            width[k] = ax[i + 1] - ax[i]
            t[k] = (x[k] - ax[i]) / width[k]
        }
        return (lo, t, width)
    }

    /// Σ over the 16 corners of the cell at `lo` of Π_k weight(k, up) · ln A(corner), up ∈ {0, 1} per axis
    /// (corners beyond a singleton axis do not exist). The multilinear value and its derivatives differ only in
    /// the weights.
    func cornerSum(lo: [Int], _ weight: (Int, Int) -> Double) -> Double {
        let n = axes.map(\.count)
        var sum = 0.0
        for corner in 0..<16 {
            var w = 1.0, index = 0
            for k in 0..<4 {
                let up = (corner >> k) & 1
                if n[k] == 1 && up == 1 { w = 0; break }
                w *= weight(k, up)
                index = index * n[k] + lo[k] + up
            }
            if w != 0 { sum += w * logA[index] }
        }
        return sum
    }
}
