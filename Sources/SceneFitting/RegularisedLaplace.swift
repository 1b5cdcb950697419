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
///
/// `samplerMetric` is what NUTS starts from: Σ itself when A is positive definite; otherwise a
/// metric that keeps every parameter's own scale. A's diagonal gives per-parameter widths
/// dᵢ = 1/√Aᵢᵢ (1 where Aᵢᵢ ≤ 0); in those units the eigenvalues of D A D are floored at
/// `metricFloor` by absolute value, so no direction is more than 1/√`metricFloor` = 10 times
/// wider than its parameters' own widths. Why: a regularised Σ (floor 10⁻¹⁰) has directions of
/// huge variance, and the unit metric used before in its place mixes parameters whose widths
/// differ by 10⁴ (positions ~0.001, fluxes ~100 in their coordinates), so the step size must
/// shrink to the narrowest of them. (On the GalSim crowded pair where this was looked for —
/// seed 21, two faint galaxies 0.19″ apart — sampling stayed at the 127-step tree limit with
/// either metric: there the posterior itself is the obstacle.)
public struct RegularisedLaplace: Sendable {
    /// The covariance in the unconstrained space.
    public var covariance: Matrix
    /// The starting inverse metric for NUTS (see above); equal to `covariance` when not regularised.
    public var samplerMetric: Matrix
    /// True when A was not positive definite and was regularised.
    public var regularised: Bool
    /// Parameter indices involved in a regularised direction (empty when not regularised).
    public var affected: [Int]

    /// Relative floor of the regularised eigenvalues.
    public static let relativeFloor = 1e-10
    /// Squared eigenvector weight above which a parameter counts as involved.
    public static let involvement = 0.01
    /// Floor of |λ| of the scaled precision D A D in `samplerMetric`.
    public static let metricFloor = 0.01

    /// From the negative Hessian (precision) `a`. Throws if `a` is not finite.
    public init(precision a: Matrix) throws {
        if a.values.allSatisfy(\.isFinite), let c = try? Cholesky(a), let inv = try? c.inverse() {
            covariance = inv
            samplerMetric = inv
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
        let n = a.rows
        let d = (0..<n).map { a[$0, $0] > 0 ? 1 / a[$0, $0].squareRoot() : 1 }
        var scaled = a
        for i in 0..<n { for j in 0..<n { scaled[i, j] = d[i] * a[i, j] * d[j] } }
        var metric = try SymmetricEigen(scaled).reassembled { 1 / max(abs($0), Self.metricFloor) }
        for i in 0..<n { for j in 0..<n { metric[i, j] *= d[i] * d[j] } }
        samplerMetric = metric
    }

    /// At the optimum `y` (unconstrained) of `density`, Hessian by central differences of the
    /// exact gradient (`finiteDifferenceHessian`).
    public init<D: LogDensity>(_ density: D, at y: [Double], relativeStep: Double = 1e-5) throws {
        let h = try finiteDifferenceHessian(density, at: y, relativeStep: relativeStep)
        try self.init(precision: Matrix(rows: h.rows, columns: h.columns, values: h.values.map { -$0 }))
    }
}
