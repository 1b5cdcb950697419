/// Errors thrown by the `HaloProfiles` module. Every case names the offending parameter.
public enum HaloProfileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A parameter that must be strictly positive (mass, concentration, radius, H0, ...) was ≤ 0.
    case nonPositive(parameter: String, value: Double)
    /// A parameter was NaN or infinite.
    case notFinite(parameter: String, value: Double)
    /// A parameter was outside its allowed range (e.g. a redshift < 0, Ω outside [0, 1]).
    case outOfRange(parameter: String, value: Double, allowed: String)
    /// The source redshift is not strictly larger than the lens redshift (Σ_crit undefined / infinite).
    case sourceNotBehindLens(zLens: Double, zSource: Double)

    public var description: String {
        switch self {
        case let .nonPositive(p, v): return "HaloProfileError: parameter '\(p)' must be > 0 (got \(v))"
        case let .notFinite(p, v): return "HaloProfileError: parameter '\(p)' must be finite (got \(v))"
        case let .outOfRange(p, v, allowed):
            return "HaloProfileError: parameter '\(p)' = \(v) is out of range (allowed: \(allowed))"
        case let .sourceNotBehindLens(zl, zs):
            return "HaloProfileError: parameter 'zSource' (\(zs)) must be greater than 'zLens' (\(zl))"
        }
    }

    /// Name of the offending parameter.
    public var parameter: String {
        switch self {
        case let .nonPositive(p, _), let .notFinite(p, _), let .outOfRange(p, _, _): return p
        case .sourceNotBehindLens: return "zSource"
        }
    }
}

@inline(__always)
func requirePositiveFinite(_ value: Double, _ name: String) throws(HaloProfileError) {
    guard !value.isNaN, value.isFinite else { throw .notFinite(parameter: name, value: value) }
    guard value > 0 else { throw .nonPositive(parameter: name, value: value) }
}

@inline(__always)
func requireRedshift(_ value: Double, _ name: String) throws(HaloProfileError) {
    guard value.isFinite else { throw .notFinite(parameter: name, value: value) }
    guard value >= 0 else { throw .outOfRange(parameter: name, value: value, allowed: "z >= 0") }
}
