import Foundation

/// The per-source fit flags: an integer bitmask written as the `flags` column of `catalog.fits`
/// (beside the older boolean `flagged`, which equals bit 0).
///
/// Bits (value = 1 << bit):
/// - bit 0 (1) `flagged`: the source was given up — its region failed `max_attempts` times, or it
///   lies outside every exposure — and keeps its last (or catalog) values; its uncertainties are
///   not measurements.
/// - bit 1 (2) `laplaceRegularised`: the uncertainties come from a Laplace covariance whose
///   negative Hessian at the optimum was not positive definite and was regularised
///   (`RegularisedLaplace`: eigenvalues replaced by |λ|, floored at 10⁻¹⁰ of the largest), or
///   could not be computed (non-finite Hessian; the uncertainties are then NaN). The errors are
///   indicative only; the optimum may be a saddle or a parameter may be unconstrained.
/// - bit 2 (4) `notConverged`: reserved for the multi-pass fit (the source's changes did not fall
///   below the convergence thresholds within the maximum number of passes).
public struct FitFlags: OptionSet, Codable, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let flagged = FitFlags(rawValue: 1 << 0)
    public static let laplaceRegularised = FitFlags(rawValue: 1 << 1)
    public static let notConverged = FitFlags(rawValue: 1 << 2)
}
