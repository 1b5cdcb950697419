/// Errors for parameters that cannot describe a magnification map. Every case names the
/// offending parameter so a configuration error can be reported to the user verbatim.
public enum MicrolensingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A parameter outside its allowed range (`requirement` says what is allowed).
    case invalidParameter(name: String, value: Double, requirement: String)
    /// The macro model lies on a critical curve, (1−κ)² = γ², where μ_th diverges and the
    /// shooting region (half-widths ∝ 1/|1−κ∓γ|) would be infinite.
    case onCriticalCurve(kappa: Double, gamma: Double)
    /// The requested map needs more work than a single map should (rays or stars above the
    /// limit); `quantity` names what overflowed.
    case tooLarge(quantity: String, value: Double, limit: Double)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, requirement):
            return "invalid \(name) = \(value): \(requirement)"
        case let .onCriticalCurve(kappa, gamma):
            return "kappa = \(kappa), gamma = \(gamma) lies on a critical curve (|1 - kappa| = gamma): "
                + "the mean magnification diverges; move kappa or gamma off the line"
        case let .tooLarge(quantity, value, limit):
            return "\(quantity) = \(value) exceeds the limit \(limit); use a smaller map, fewer rays, "
                + "or a model further from the critical curve"
        }
    }

    /// Throws `.invalidParameter` unless `condition` holds.
    static func require(_ condition: Bool, _ name: String, _ value: Double, _ requirement: String) throws {
        if !condition { throw MicrolensingError.invalidParameter(name: name, value: value, requirement: requirement) }
    }
}
