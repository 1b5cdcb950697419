import COpenBLAS
import Foundation

/// The eigendecomposition A = V Λ Vᵀ of a real symmetric matrix (LAPACK dsyev).
///
/// Why: a Hessian that is not negative definite at a reported optimum cannot be inverted into a
/// covariance by Cholesky; its eigenvalues say which directions are flat or curved the wrong way,
/// so they can be regularised explicitly (and reported) instead of being replaced by a constant.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues in ascending order.
    public let values: [Double]
    /// Eigenvectors as columns: `vectors[i, k]` is component i of the eigenvector of `values[k]`.
    public let vectors: Matrix

    /// Decomposes `a`; only its lower triangle is read. Throws for a non-square or non-finite
    /// matrix, or when LAPACK does not converge.
    public init(_ a: Matrix) throws {
        guard a.isSquare else { throw LinearAlgebraError.notSquare(rows: a.rows, columns: a.columns) }
        guard a.values.allSatisfy(\.isFinite) else { throw LinearAlgebraError.lapack(routine: "dsyev (non-finite input)", info: -5) }
        let n = a.rows
        var v = a
        var w = [Double](repeating: 0, count: n)
        if n > 0 {
            let info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "L")), Int32(n),
                                     &v.values, Int32(n), &w)
            if info != 0 { throw LinearAlgebraError.lapack(routine: "dsyev", info: info) }
        }
        values = w
        vectors = v
    }

    /// V f(Λ) Vᵀ: the symmetric matrix with the same eigenvectors and eigenvalues f(λ).
    public func reassembled(_ f: (Double) -> Double) -> Matrix {
        let n = values.count
        let fv = values.map(f)
        var m = Matrix.zeros(n, n)
        for i in 0..<n {
            for j in 0...i {
                var s = 0.0
                for k in 0..<n { s += vectors[i, k] * fv[k] * vectors[j, k] }
                m[i, j] = s
                m[j, i] = s
            }
        }
        return m
    }
}
