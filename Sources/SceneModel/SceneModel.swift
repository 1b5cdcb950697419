/// SceneModel: the science core of Tessera's forcepho-style scene fitting. Pure computation:
/// no MPI, no files. Runners build `Patch`es from the pixel store and hand them here.
///
/// Conventions used throughout this target (read these before using the numbers):
/// - **Sky positions** are (RA, Dec) in degrees. Inside a patch, positions are **tangent-plane
///   offsets in arcseconds** (ξ east, η north) about the patch's reference point
///   (`Astrometry.TangentPlane`), so the sampler never works with 1e-5-degree steps.
/// - **Pixel coordinates** are 0-based with the centre of the first pixel at (0, 0); x is the
///   column (FITS axis 1), y the row (FITS axis 2), as in `Astrometry.WCS`.
/// - **Fluxes** are in the catalog's flux unit (e.g. nJy); an exposure's `calibration` converts
///   them to image counts (counts per catalog flux unit), so model counts = flux × calibration.
/// - **Shapes**: q = b/a ∈ (0, 1] is the axis ratio; `pa` is the position angle of the major
///   axis in radians, east of north; `rhalf` is the half-light radius **along the major axis**
///   in arcseconds; `sersic` is the Sérsic index n. A galaxy's Gaussian component k has on-sky
///   covariance Σ_k = (r_k·rhalf)² · (u uᵀ + q² v vᵀ) with u = (sin pa, cos pa) the major-axis
///   direction in (ξ, η) and v = (cos pa, −sin pa) the minor-axis direction.
/// - **Point sources** have only fluxes and a position; their image is the PSF.
public enum SceneModelInfo {
    /// Bumped when the meaning of the parameter vector or the rendering changes.
    public static let modelVersion = "scene-model-1"
}

/// Errors from the scene model, each naming what is wrong.
public enum SceneModelError: Error, Equatable, CustomStringConvertible {
    case invalidArgument(String)
    case dimensionMismatch(what: String, expected: Int, got: Int)
    case invalidTable(String)
    /// A Sersic mixture table file that cannot be used: the file, the field ("" for the whole
    /// file) and why.
    case tableFile(path: String, field: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidArgument(s): return s
        case let .dimensionMismatch(what, expected, got): return "\(what): expected \(expected) values, got \(got)"
        case let .invalidTable(s): return "Sersic mixture table: \(s)"
        case let .tableFile(path, field, reason):
            return field.isEmpty ? "\(path): \(reason)" : "\(path): field '\(field)': \(reason)"
        }
    }
}
