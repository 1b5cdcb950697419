import RealModule

/// A smooth scattered-data interpolant in d dimensions: the cubic polyharmonic spline φ(r) = r³ plus a linear
/// polynomial, through every node exactly, with the leave-one-out error of every node (Rippa 1999).
///
/// Why this kernel: it has no shape parameter to tune (Gaussian or multiquadric RBFs need one, and a bad one
/// makes the system singular or the surface wiggle), it is C² (a smooth ln A(η) and a continuous gradient for
/// NUTS), and the linear tail reproduces linear functions exactly, so a smooth trend costs no nodes.
///
/// Coordinates are mapped to the unit cube of `lower`…`upper` before distances are taken, so axes with
/// different units (α_sps ~ 1, log M_h ~ 13) weigh alike. The system [[Φ, P], [Pᵀ, 0]] (n + d + 1 unknowns) is
/// solved by LU with partial pivoting; the inverse's diagonal gives the leave-one-out errors
/// e_i = c_i / (M⁻¹)_ii, the difference between y_i and the interpolant built without node i, at the cost of one
/// inverse instead of n refits. n up to a few hundred costs milliseconds to a second (O(n³)).
public struct RadialBasisInterpolant: Sendable, Equatable {
    public let lower: [Double], upper: [Double]
    /// Nodes in the caller's coordinates, and the values there.
    public let nodes: [[Double]]
    public let values: [Double]
    /// Kernel weights c (one per node) and the linear tail's coefficients (constant, then one per axis, in
    /// unit-cube coordinates).
    public let weights: [Double], tail: [Double]
    /// y_i − s₋ᵢ(x_i): what the interpolant built without node i misses at node i.
    public let leaveOneOutErrors: [Double]
    /// The node coordinates mapped to the unit cube (distances between them are what the kernel sees); kept so
    /// an evaluation (inside a sampler's inner loop) allocates nothing per node.
    public let unitNodes: [[Double]]

    /// - Throws: `.invalidParameter` for mismatched sizes, a degenerate box, fewer than d + 2 nodes, non-finite
    ///   values, or a singular system (repeated nodes, or all nodes on one hyperplane).
    public init(nodes: [[Double]], values: [Double], lower: [Double], upper: [Double]) throws(LensInferenceError) {
        let d = lower.count, n = nodes.count
        guard d > 0, upper.count == d, zip(lower, upper).allSatisfy({ $0.isFinite && $1.isFinite && $0 < $1 }) else {
            throw .invalidParameter(name: "box", value: Double(d), allowed: "lower < upper on every axis, both finite")
        }
        guard values.count == n, nodes.allSatisfy({ $0.count == d }) else {
            throw .invalidParameter(name: "nodes", value: Double(n), allowed: "one value and \(d) coordinates per node")
        }
        guard n >= d + 2 else { throw .invalidParameter(name: "nodes", value: Double(n), allowed: ">= \(d + 2) nodes in \(d) dimensions") }
        guard values.allSatisfy(\.isFinite) else { throw .invalidParameter(name: "values", value: .nan, allowed: "finite") }
        let unit = nodes.map { Self.toUnit($0, lower, upper) }
        let m = n + d + 1
        var a = [Double](repeating: 0, count: m * m)
        for i in 0..<n {
            for j in 0..<n { a[i * m + j] = Self.phi(Self.distance(unit[i], unit[j])) }
            a[i * m + n] = 1; a[n * m + i] = 1
            for k in 0..<d { a[i * m + n + 1 + k] = unit[i][k]; a[(n + 1 + k) * m + i] = unit[i][k] }
        }
        guard let lu = DenseLU(a, size: m) else {
            throw .invalidParameter(name: "nodes", value: Double(n), allowed: "distinct nodes not all on one hyperplane (the system is singular)")
        }
        let solution = lu.solve(values + [Double](repeating: 0, count: d + 1))
        let diagonal = lu.inverseDiagonal(count: n)
        self.lower = lower
        self.upper = upper
        self.nodes = nodes
        self.values = values
        unitNodes = unit
        let c = Array(solution[0..<n])
        weights = c
        tail = Array(solution[n...])
        leaveOneOutErrors = (0..<n).map { c[$0] / diagonal[$0] }
    }

    @inline(__always) static func phi(_ r: Double) -> Double { r * r * r }

    @inline(__always) static func distance(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for k in a.indices { s += (a[k] - b[k]) * (a[k] - b[k]) }
        return s.squareRoot()
    }

    static func toUnit(_ x: [Double], _ lower: [Double], _ upper: [Double]) -> [Double] {
        x.indices.map { (x[$0] - lower[$0]) / (upper[$0] - lower[$0]) }
    }

    /// s(x). Extrapolates outside the box (callers that must not, check first).
    public func value(_ x: [Double]) -> Double {
        let u = Self.toUnit(x, lower, upper)
        var s = tail[0]
        for k in u.indices { s += tail[k + 1] * u[k] }
        for i in unitNodes.indices { s += weights[i] * Self.phi(Self.distance(u, unitNodes[i])) }
        return s
    }

    /// ∇s(x) in the caller's coordinates: analytic, ∇r³ = 3 r (u − u_i) in the unit cube, scaled by 1/(upper − lower).
    public func gradient(_ x: [Double]) -> [Double] {
        let u = Self.toUnit(x, lower, upper)
        var g = Array(tail[1...])
        for i in unitNodes.indices {
            let r = Self.distance(u, unitNodes[i])
            for k in u.indices { g[k] += weights[i] * 3 * r * (u[k] - unitNodes[i][k]) }
        }
        return g.indices.map { g[$0] / (upper[$0] - lower[$0]) }
    }

    /// An error estimate at x: the leave-one-out error of the nearest node (in unit-cube distance). It says
    /// how well the neighbourhood is resolved, not a bound.
    public func errorEstimate(_ x: [Double]) -> Double {
        let u = Self.toUnit(x, lower, upper)
        let nearest = unitNodes.indices.min { Self.distance(u, unitNodes[$0]) < Self.distance(u, unitNodes[$1]) } ?? 0
        return abs(leaveOneOutErrors[nearest])
    }
}

/// LU factorisation with partial pivoting of a dense square matrix (row-major), for the interpolant's small
/// systems; nil when a pivot vanishes relative to the matrix's largest entry (singular to working precision).
struct DenseLU {
    let size: Int
    var lu: [Double]
    var pivot: [Int]

    init?(_ a: [Double], size n: Int) {
        size = n
        lu = a
        pivot = Array(0..<n)
        let scale = a.reduce(0) { max($0, abs($1)) }
        guard scale > 0 else { return nil }
        for k in 0..<n {
            var p = k, best = abs(lu[k * n + k])
            for i in (k + 1)..<max(n, k + 1) where abs(lu[i * n + k]) > best { best = abs(lu[i * n + k]); p = i }
            guard best > 1e-13 * scale else { return nil }
            if p != k {
                for j in 0..<n { lu.swapAt(k * n + j, p * n + j) }
                pivot.swapAt(k, p)
            }
            let inv = 1 / lu[k * n + k]
            for i in (k + 1)..<max(n, k + 1) {
                let f = lu[i * n + k] * inv
                lu[i * n + k] = f
                if f == 0 { continue }
                for j in (k + 1)..<n { lu[i * n + j] -= f * lu[k * n + j] }
            }
        }
    }

    func solve(_ b: [Double]) -> [Double] {
        let n = size
        var x = pivot.map { b[$0] }
        for i in 0..<n { for j in 0..<i { x[i] -= lu[i * n + j] * x[j] } }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in (i + 1)..<n { x[i] -= lu[i * n + j] * x[j] }
            x[i] /= lu[i * n + i]
        }
        return x
    }

    /// (M⁻¹)_ii for i < count, one solve per column.
    func inverseDiagonal(count: Int) -> [Double] {
        (0..<count).map { i in
            var e = [Double](repeating: 0, count: size)
            e[i] = 1
            return solve(e)[i]
        }
    }
}
