/// Errors of the `LensInference` module; each names the lens, the image or the parameter at fault.
public enum LensInferenceError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An image's (κ, γ, s) or the source size falls outside the microlensing table (outside its grid,
    /// too near the critical line, or on a missing cell). `reason` is the table's own message.
    case outsideTable(lens: String, image: Int, kappa: Double, gamma: Double, s: Double, sourceSize: Double, reason: String)
    /// A hyperparameter or setting is NaN, infinite or outside its allowed range.
    case invalidParameter(name: String, value: Double, allowed: String)
    /// A lens's data cannot be used (e.g. fewer than two images, mismatched arrays).
    case invalidLens(lens: String, reason: String)

    public var description: String {
        switch self {
        case let .outsideTable(lens, image, k, g, s, size, reason):
            return "lens '\(lens)', image \(image): (κ, γ, s) = (\(k), \(g), \(s)) at source size \(size) is outside "
                + "the microlensing table: \(reason)"
        case let .invalidParameter(name, value, allowed):
            return "parameter '\(name)' = \(value) is invalid (allowed: \(allowed))"
        case let .invalidLens(lens, reason):
            return "lens '\(lens)': \(reason)"
        }
    }
}

@inline(__always)
func requireFinite(_ v: Double, _ name: String) throws(LensInferenceError) {
    guard v.isFinite else { throw .invalidParameter(name: name, value: v, allowed: "finite") }
}

@inline(__always)
func requirePositive(_ v: Double, _ name: String) throws(LensInferenceError) {
    guard v.isFinite, v > 0 else { throw .invalidParameter(name: name, value: v, allowed: "finite and > 0") }
}
