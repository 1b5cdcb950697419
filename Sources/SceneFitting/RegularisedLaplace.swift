import Foundation
import Inference
import TesseraLinAlg

/// The Laplace covariance of a patch posterior at its optimum, regularised (and reported as such)
/// when the negative Hessian there is not positive definite, instead of being replaced by a
/// constant.
///
/// With A = −H (the finite-difference Hessian of log p in the unconstrained space, symmetrised):
/// - A positive definite (Cholesky succeeds): Σ = A⁻¹, not regularised.
/// - Otherwise A = V Λ Vᵀ and Σ = V diag(1/λ′) Vᵀ with λ′ = max(|λ|, 10⁻¹⁰·max|λ|): the absolute
///   value keeps the curvature's scale in a direction curved the wrong way (a saddle, or noise in
///   the finite differences; the SoftAbs idea of Betancourt 2013), and the floor turns a flat
///   direction into a very large, finite variance — an honest "unconstrained", never a
///   fixed number. `affected` lists the parameters with ≥ 1% of the squared weight of an
///   eigenvector whose eigenvalue was changed (λ ≤ floor), so only the sources involved are flagged.
public struct RegularisedLaplace: Sendable {
    /// The covariance in the unconstrained space.
    public var covariance: Matrix
    /// True when A was not positive definite and was regularised.
    public var regularised: Bool
    /// Parameter indices involved in a regularised direction (empty when not regularised).
    public var affected: [Int]

    /// Relative floor of the regularised eigenvalues.
    public static let relativeFloor = 1e-10
    /// Squared eigenvector weight above which a parameter counts as involved.
    public static let involvement = 0.01

    /// From the negative Hessian (precision) `a`. Throws if `a` is not finite.
    public init(precision a: Matrix) throws {
        if a.values.allSatisfy(\.isFinite), let c = try? Cholesky(a), let inv = try? c.inverse() {
            covariance = inv
            regularised = false
            affected = []
            return
        }
        let e = try SymmetricEigen(a)
        let largest = e.values.map(abs).max() ?? 0
        guard largest > 0 else { throw LinearAlgebraError.notPositiveDefinite(order: 1, size: a.rows) }
        let floor = Self.relativeFloor * largest
        covariance = e.reassembled { 1 / max(abs($0), floor) }
        regularised = true
        var involved = Set<Int>()
        for k in e.values.indices where e.values[k] <= floor {
            for i in 0..<a.rows where e.vectors[i, k] * e.vectors[i, k] >= Self.involvement { involved.insert(i) }
        }
        affected = involved.sorted()
    }

    /// At the optimum `y` (unconstrained) of `density`, Hessian by central differences of the
    /// exact gradient (`finiteDifferenceHessian`).
    public init<D: LogDensity>(_ density: D, at y: [Double], relativeStep: Double = 1e-5) throws {
        let h = try finiteDifferenceHessian(density, at: y, relativeStep: relativeStep)
        try self.init(precision: Matrix(rows: h.rows, columns: h.columns, values: h.values.map { -$0 }))
    }
}
