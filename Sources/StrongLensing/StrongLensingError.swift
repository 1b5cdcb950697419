/// Errors of the `StrongLensing` module; every case names the offending parameter or source position.
public enum StrongLensingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A parameter was NaN, infinite or outside its allowed range.
    case invalidParameter(name: String, value: Double, allowed: String)
    /// The solver found no image (cannot happen for a physical lens; reported rather than returned empty).
    case noSolution(sourceX: Double, sourceY: Double)
    /// The images found violate the index theorem n_min + n_max − n_saddle = 1 even after refining the
    /// search mesh: an image was missed or the source sits on a caustic to within the solver's resolution.
    case inconsistentImages(sourceX: Double, sourceY: Double, minima: Int, maxima: Int, saddles: Int)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, allowed):
            return "StrongLensingError: parameter '\(name)' = \(value) is invalid (allowed: \(allowed))"
        case let .noSolution(x, y):
            return "StrongLensingError: no image found for the source at (\(x), \(y)) arcsec"
        case let .inconsistentImages(x, y, nMin, nMax, nSad):
            return "StrongLensingError: images of the source at (\(x), \(y)) arcsec violate the index theorem "
                + "(\(nMin) minima + \(nMax) maxima − \(nSad) saddles ≠ 1): the source is on a caustic to within "
                + "the solver's resolution, or an image was missed"
        }
    }
}

@inline(__always)
func requireFinite(_ v: Double, _ name: String) throws(StrongLensingError) {
    guard v.isFinite else { throw .invalidParameter(name: name, value: v, allowed: "finite") }
}

@inline(__always)
func requirePositive(_ v: Double, _ name: String) throws(StrongLensingError) {
    guard v.isFinite, v > 0 else { throw .invalidParameter(name: name, value: v, allowed: "finite and > 0") }
}

@inline(__always)
func requireNonNegative(_ v: Double, _ name: String) throws(StrongLensingError) {
    guard v.isFinite, v >= 0 else { throw .invalidParameter(name: name, value: v, allowed: "finite and >= 0") }
}
