import HaloProfiles
import TesseraLinAlg

/// Errors thrown by the `ClusterFitting` module. Every case names the offending field.
public enum ClusterFittingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An array that must not be empty was empty.
    case empty(field: String)
    /// Two arrays that must have the same length do not.
    case lengthMismatch(field: String, expected: Int, got: Int)
    /// An element was NaN or infinite.
    case notFinite(field: String, index: Int, value: Double)
    /// An element that must be > 0 (an error, a radius) was ≤ 0.
    case nonPositive(field: String, index: Int, value: Double)
    /// A covariance matrix is not symmetric positive definite.
    case covarianceNotPositiveDefinite(field: String)
    /// The source redshift is not strictly beyond the lens redshift.
    case sourceNotBehindLens(zLens: Double, zSource: Double)
    /// Any other invalid argument.
    case invalidArgument(field: String, reason: String)

    public var description: String {
        switch self {
        case let .empty(f): return "ClusterFittingError: '\(f)' must not be empty"
        case let .lengthMismatch(f, e, g): return "ClusterFittingError: '\(f)' has length \(g), expected \(e)"
        case let .notFinite(f, i, v): return "ClusterFittingError: '\(f)[\(i)]' must be finite (got \(v))"
        case let .nonPositive(f, i, v): return "ClusterFittingError: '\(f)[\(i)]' must be > 0 (got \(v))"
        case let .covarianceNotPositiveDefinite(f):
            return "ClusterFittingError: '\(f)' is not symmetric positive definite"
        case let .sourceNotBehindLens(zl, zs):
            return "ClusterFittingError: 'sourceRedshift' (\(zs)) must be greater than the lens redshift (\(zl))"
        case let .invalidArgument(f, r): return "ClusterFittingError: '\(f)': \(r)"
        }
    }

    /// Name of the offending field.
    public var field: String {
        switch self {
        case let .empty(f), let .lengthMismatch(f, _, _), let .notFinite(f, _, _), let .nonPositive(f, _, _),
             let .covarianceNotPositiveDefinite(f), let .invalidArgument(f, _): return f
        case .sourceNotBehindLens: return "sourceRedshift"
        }
    }
}

/// One measured weak-lensing profile of one halo.
///
/// Units: radii are bin centres in physical (proper) Mpc; ΔΣ values and errors in M☉/Mpc²
/// (covariance in (M☉/Mpc²)²); g_t is dimensionless.
public struct HaloObservable: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Excess surface density ΔΣ(R) [M☉/Mpc²].
        case excessSurfaceDensity
        /// Reduced tangential shear g_t(R) for sources at a single redshift.
        case reducedShear(sourceRedshift: Double)
    }

    public let kind: Kind
    /// Radial bin centres [physical Mpc], > 0.
    public let radii: [Double]
    public let values: [Double]
    /// Full data covariance (diagonal when built from per-bin errors).
    public let covariance: Matrix
    /// Cholesky factor of `covariance`.
    public let cholesky: Cholesky
    /// log det C, cached.
    public let logDeterminant: Double
    /// √diag(C).
    public var errors: [Double] { covariance.diagonalValues.map { $0.squareRoot() } }

    /// The general initializer: validates radii (finite, > 0), values (finite), lengths, and that the
    /// covariance is n×n, finite, symmetric and positive definite.
    public init(kind: Kind, radii: [Double], values: [Double], covariance: Matrix) throws(ClusterFittingError) {
        let n = radii.count
        guard n > 0 else { throw .empty(field: "radii") }
        guard values.count == n else { throw .lengthMismatch(field: "values", expected: n, got: values.count) }
        for (i, r) in radii.enumerated() {
            guard r.isFinite else { throw .notFinite(field: "radii", index: i, value: r) }
            guard r > 0 else { throw .nonPositive(field: "radii", index: i, value: r) }
        }
        for (i, v) in values.enumerated() where !v.isFinite { throw .notFinite(field: "values", index: i, value: v) }
        guard covariance.rows == n, covariance.columns == n else {
            throw .lengthMismatch(field: "covariance", expected: n, got: covariance.rows == n ? covariance.columns : covariance.rows)
        }
        for (k, v) in covariance.values.enumerated() where !v.isFinite {
            throw .notFinite(field: "covariance", index: k, value: v)
        }
        for i in 0..<n {
            for j in 0..<i {
                let a = covariance[i, j], b = covariance[j, i]
                guard Swift.abs(a - b) <= 1e-10 * Swift.max(Swift.abs(a), Swift.abs(b)) else {
                    throw .covarianceNotPositiveDefinite(field: "covariance")
                }
            }
        }
        if case let .reducedShear(zs) = kind {
            guard zs.isFinite else { throw .notFinite(field: "sourceRedshift", index: 0, value: zs) }
            guard zs > 0 else { throw .nonPositive(field: "sourceRedshift", index: 0, value: zs) }
        }
        let chol: Cholesky
        do { chol = try Cholesky(covariance) } catch { throw .covarianceNotPositiveDefinite(field: "covariance") }
        self.kind = kind
        self.radii = radii
        self.values = values
        self.covariance = covariance
        self.cholesky = chol
        self.logDeterminant = chol.logDeterminant
    }

    /// Per-bin errors (σᵢ > 0, finite) → diagonal covariance.
    public init(kind: Kind, radii: [Double], values: [Double], errors: [Double]) throws(ClusterFittingError) {
        guard errors.count == radii.count else {
            throw .lengthMismatch(field: "errors", expected: radii.count, got: errors.count)
        }
        for (i, e) in errors.enumerated() {
            guard !e.isNaN, e.isFinite else { throw .notFinite(field: "errors", index: i, value: e) }
            guard e > 0 else { throw .nonPositive(field: "errors", index: i, value: e) }
        }
        try self.init(kind: kind, radii: radii, values: values, covariance: .diagonal(errors.map { $0 * $0 }))
    }

    /// ΔΣ profile with per-bin errors [M☉/Mpc²].
    public static func excessSurfaceDensity(radii: [Double], values: [Double], errors: [Double]) throws(ClusterFittingError) -> HaloObservable {
        try HaloObservable(kind: .excessSurfaceDensity, radii: radii, values: values, errors: errors)
    }

    /// ΔΣ profile with a full covariance [(M☉/Mpc²)²].
    public static func excessSurfaceDensity(radii: [Double], values: [Double], covariance: Matrix) throws(ClusterFittingError) -> HaloObservable {
        try HaloObservable(kind: .excessSurfaceDensity, radii: radii, values: values, covariance: covariance)
    }

    /// g_t profile with per-bin errors; sources at `sourceRedshift`.
    public static func reducedShear(radii: [Double], values: [Double], errors: [Double], sourceRedshift: Double) throws(ClusterFittingError) -> HaloObservable {
        try HaloObservable(kind: .reducedShear(sourceRedshift: sourceRedshift), radii: radii, values: values, errors: errors)
    }

    /// g_t profile with a full covariance; sources at `sourceRedshift`.
    public static func reducedShear(radii: [Double], values: [Double], covariance: Matrix, sourceRedshift: Double) throws(ClusterFittingError) -> HaloObservable {
        try HaloObservable(kind: .reducedShear(sourceRedshift: sourceRedshift), radii: radii, values: values, covariance: covariance)
    }

    /// Checks that this observable can be lensed by a halo at `lensRedshift`.
    public func validate(lensRedshift zl: Double) throws(ClusterFittingError) {
        if case let .reducedShear(zs) = kind, !(zs > zl) { throw .sourceNotBehindLens(zLens: zl, zSource: zs) }
    }

    /// Gaussian log-likelihood of `model` (same length as `values`):
    /// −½ rᵀC⁻¹r − ½ log det C − (n/2) log 2π with r = values − model.
    public func logLikelihood(model: [Double]) throws -> Double {
        guard model.count == values.count else {
            throw ClusterFittingError.lengthMismatch(field: "model", expected: values.count, got: model.count)
        }
        var r = values
        for i in 0..<r.count { r[i] -= model[i] }
        let w = try cholesky.solveLower(r)
        var chi2 = 0.0
        for x in w { chi2 += x * x }
        return -0.5 * chi2 - 0.5 * logDeterminant - 0.5 * Double(r.count) * 1.8378770664093453
    }
}
