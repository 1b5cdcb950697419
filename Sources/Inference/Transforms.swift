import RealModule

/// A smooth bijection from the unconstrained real line y ∈ ℝ to a constrained parameter x,
/// as in Stan's reference manual ("Constraint transforms").
///
/// Conventions: `constrain(y)` = x (the model's parameter), `unconstrain(x)` = y,
/// `derivative(y)` = dx/dy, `logAbsJacobian(y)` = log|dx/dy| and
/// `logAbsJacobianGradient(y)` = d/dy log|dx/dy|. A density p(x) becomes
/// p(x(y)) |dx/dy| on the unconstrained line.
public enum ParameterTransform: Equatable, Sendable {
    /// x = y.
    case identity
    /// x = a + eʸ (x > a); log|J| = y.
    case lowerBound(Double)
    /// x = b − eʸ (x < b); log|J| = y.
    case upperBound(Double)
    /// x = a + (b − a) σ(y) with σ the logistic function (a < x < b);
    /// log|J| = log(b − a) + log σ(y) + log(1 − σ(y)).
    case interval(lower: Double, upper: Double)

    /// Unconstrained → constrained.
    public func constrain(_ y: Double) -> Double {
        switch self {
        case .identity: return y
        case let .lowerBound(a): return a + Double.exp(y)
        case let .upperBound(b): return b - Double.exp(y)
        case let .interval(a, b): return a + (b - a) * logistic(y)
        }
    }

    /// Constrained → unconstrained (the inverse of `constrain`). Values on or outside a bound map
    /// to ±∞ or NaN.
    public func unconstrain(_ x: Double) -> Double {
        switch self {
        case .identity: return x
        case let .lowerBound(a): return Double.log(x - a)
        case let .upperBound(b): return Double.log(b - x)
        case let .interval(a, b):
            let u = (x - a) / (b - a)
            return Double.log(u) - Double.log(onePlus: -u)
        }
    }

    /// dx/dy.
    public func derivative(_ y: Double) -> Double {
        switch self {
        case .identity: return 1
        case .lowerBound: return Double.exp(y)
        case .upperBound: return -Double.exp(y)
        case let .interval(a, b):
            let s = logistic(y)
            return (b - a) * s * (1 - s)
        }
    }

    /// log|dx/dy|.
    public func logAbsJacobian(_ y: Double) -> Double {
        switch self {
        case .identity: return 0
        case .lowerBound, .upperBound: return y
        case let .interval(a, b):
            // log σ(y) = −softplus(−y), log(1 − σ(y)) = −softplus(y)
            return Double.log(b - a) - softplus(-y) - softplus(y)
        }
    }

    /// d/dy log|dx/dy|.
    public func logAbsJacobianGradient(_ y: Double) -> Double {
        switch self {
        case .identity: return 0
        case .lowerBound, .upperBound: return 1
        case .interval: return 1 - 2 * logistic(y)
        }
    }
}

/// Turns a log-density of constrained parameters x into one of unconstrained parameters y,
/// including the change-of-variables term:
///
///     log p_y(y) = log p_x(x(y)) + Σᵢ log|dxᵢ/dyᵢ|,
///     ∂ log p_y / ∂yᵢ = (∂ log p_x / ∂xᵢ) · dxᵢ/dyᵢ + d/dyᵢ log|dxᵢ/dyᵢ|.
///
/// Gradients are exact (no finite differences). Sample or optimise the wrapper, then map draws back
/// with `constrain`. Note that the mode in y is not the mode in x (the Jacobian moves it); to find
/// the constrained maximum a posteriori point optimise with `includeJacobian: false`.
public struct TransformedDensity<Base: LogDensity>: LogDensity {
    public let base: Base
    public let transforms: [ParameterTransform]
    /// Whether the log-Jacobian is added (true for sampling; false gives the constrained density
    /// evaluated through the reparameterisation, for maximum a posteriori estimates).
    public let includeJacobian: Bool

    public var dimension: Int { base.dimension }

    public init(_ base: Base, transforms: [ParameterTransform], includeJacobian: Bool = true) {
        precondition(transforms.count == base.dimension,
                     "need one transform per parameter (\(base.dimension)), got \(transforms.count)")
        self.base = base
        self.transforms = transforms
        self.includeJacobian = includeJacobian
    }

    /// Unconstrained → constrained, element-wise.
    public func constrain(_ y: [Double]) -> [Double] {
        precondition(y.count == transforms.count)
        return (0..<y.count).map { transforms[$0].constrain(y[$0]) }
    }

    /// Constrained → unconstrained, element-wise.
    public func unconstrain(_ x: [Double]) -> [Double] {
        precondition(x.count == transforms.count)
        return (0..<x.count).map { transforms[$0].unconstrain(x[$0]) }
    }

    public func logDensityAndGradient(_ y: [Double]) throws -> (value: Double, gradient: [Double]) {
        guard y.count == dimension else { throw InferenceError.dimensionMismatch(expected: dimension, got: y.count) }
        let (v, gx) = try base.logDensityAndGradient(constrain(y))
        return pullBack(value: v, gradient: gx, at: y)
    }

    /// The base density's value and gradient at x(y) carried to y: the chain rule through each
    /// transform, plus the log-Jacobians when `includeJacobian`. Shared with densities that map
    /// some coordinates jointly and fix those up afterwards (`SceneFitting.PatchPosterior`).
    public func pullBack(value v: Double, gradient gx: [Double], at y: [Double]) -> (value: Double, gradient: [Double]) {
        var value = v
        var g = [Double](repeating: 0, count: y.count)
        for i in 0..<y.count {
            let t = transforms[i]
            g[i] = gx[i] * t.derivative(y[i])
            if includeJacobian {
                value += t.logAbsJacobian(y[i])
                g[i] += t.logAbsJacobianGradient(y[i])
            }
        }
        return (value, g)
    }
}
