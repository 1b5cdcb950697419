import RealModule

/// The one thing the inference layer sees of a model: a log-density and its gradient at a point.
///
/// Conventions:
/// - `x` is a point in ℝ^`dimension` (for samplers: *unconstrained* space; wrap a bounded model
///   in `TransformedDensity` first).
/// - `value` is log p(x) up to an additive constant; `gradient` is ∂ log p / ∂x, same length as `x`.
/// - A point outside the support may return `-.infinity` (or throw); samplers treat either as a
///   zero-density point (a divergence inside a trajectory), optimisers as an infeasible step.
public protocol LogDensity {
    /// The number of parameters.
    var dimension: Int { get }
    /// log p(x) (up to a constant) and its gradient at `x`.
    func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double])
}

/// A `LogDensity` given by a closure, e.g.
/// `ClosureDensity(dimension: 2) { x in (-0.5 * (x[0]*x[0] + x[1]*x[1]), [-x[0], -x[1]]) }`.
public struct ClosureDensity: LogDensity {
    public let dimension: Int
    private let body: ([Double]) throws -> (value: Double, gradient: [Double])

    public init(dimension: Int, _ body: @escaping ([Double]) throws -> (value: Double, gradient: [Double])) {
        precondition(dimension >= 0, "dimension must be non-negative")
        self.dimension = dimension
        self.body = body
    }

    public func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
        try body(x)
    }
}

/// Errors raised by the inference layer.
public enum InferenceError: Error, Equatable, CustomStringConvertible {
    case dimensionMismatch(expected: Int, got: Int)
    /// The log-density (or its gradient) is not finite at the starting point.
    case nonFiniteInitialDensity
    /// A warm-up or draw count, step size or similar setting is out of range.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .dimensionMismatch(e, g): return "expected a point of dimension \(e), got \(g)"
        case .nonFiniteInitialDensity: return "log-density or gradient is not finite at the initial point"
        case let .invalidArgument(s): return "invalid argument: \(s)"
        }
    }
}

// MARK: - Small vector helpers (internal)

@inline(__always) func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * b[i] }
    return s
}

@inline(__always) func logSumExp(_ a: Double, _ b: Double) -> Double {
    if a == -Double.infinity { return b }
    if b == -Double.infinity { return a }
    let m = Swift.max(a, b)
    return m + Double.log(onePlus: Double.exp(-Swift.abs(a - b)))
}

@inline(__always) func allFinite(_ v: [Double]) -> Bool { v.allSatisfy { $0.isFinite } }
