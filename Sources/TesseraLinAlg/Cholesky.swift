import COpenBLAS
import Foundation

/// Errors from factorisations, with the size and the failing pivot so a user can tell a bad
/// covariance from a bug.
public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable {
    case notSquare(rows: Int, columns: Int)
    /// The leading minor of order `order` (1-based) is not positive: the matrix is not positive
    /// definite (e.g. a covariance estimated from too few draws).
    case notPositiveDefinite(order: Int, size: Int)
    case dimensionMismatch(expected: Int, got: Int)
    case lapack(routine: String, info: Int32)

    public var description: String {
        switch self {
        case let .notSquare(r, c): return "matrix is \(r)×\(c), not square"
        case let .notPositiveDefinite(k, n):
            return "\(n)×\(n) matrix is not positive definite (leading minor of order \(k) is not positive)"
        case let .dimensionMismatch(e, g): return "expected length \(e), got \(g)"
        case let .lapack(routine, info): return "\(routine) failed with info = \(info)"
        }
    }
}

/// The Cholesky factorisation A = L Lᵀ of a symmetric positive-definite matrix (LAPACK dpotrf).
///
/// Used to solve with covariances, to draw correlated momenta p = L z in HMC with a dense mass
/// matrix, and for log-determinants in Gaussian likelihoods.
public struct Cholesky: Sendable {
    /// The lower-triangular factor L (upper triangle zero).
    public let lower: Matrix

    public var size: Int { lower.rows }

    /// Factorise `a`; only its lower triangle is read.
    public init(_ a: Matrix) throws {
        guard a.isSquare else { throw LinearAlgebraError.notSquare(rows: a.rows, columns: a.columns) }
        let n = a.rows
        var l = a
        if n > 0 {
            let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), &l.values, Int32(n))
            if info > 0 { throw LinearAlgebraError.notPositiveDefinite(order: Int(info), size: n) }
            if info < 0 { throw LinearAlgebraError.lapack(routine: "dpotrf", info: info) }
        }
        for i in 0..<n { for j in (i + 1)..<Swift.max(n, i + 1) { l[i, j] = 0 } }
        lower = l
    }

    /// Solve L y = b (forward substitution, BLAS dtrsv).
    public func solveLower(_ b: [Double]) throws -> [Double] {
        try triangularSolve(b, transpose: false)
    }

    /// Solve Lᵀ x = y (back substitution, BLAS dtrsv).
    public func solveUpper(_ y: [Double]) throws -> [Double] {
        try triangularSolve(y, transpose: true)
    }

    private func triangularSolve(_ b: [Double], transpose: Bool) throws -> [Double] {
        guard b.count == size else { throw LinearAlgebraError.dimensionMismatch(expected: size, got: b.count) }
        var x = b
        guard size > 0 else { return x }
        cblas_dtrsv(CblasRowMajor, CblasLower, transpose ? CblasTrans : CblasNoTrans, CblasNonUnit,
                    Int32(size), lower.values, Int32(size), &x, 1)
        return x
    }

    /// Solve A x = b.
    public func solve(_ b: [Double]) throws -> [Double] {
        try solveUpper(try solveLower(b))
    }

    /// Solve A X = B for a matrix of right-hand sides (LAPACK dpotrs).
    public func solve(_ b: Matrix) throws -> Matrix {
        guard b.rows == size else { throw LinearAlgebraError.dimensionMismatch(expected: size, got: b.rows) }
        var x = b
        guard size > 0, b.columns > 0 else { return x }
        let info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), Int32(size), Int32(b.columns),
                                  lower.values, Int32(size), &x.values, Int32(b.columns))
        if info != 0 { throw LinearAlgebraError.lapack(routine: "dpotrs", info: info) }
        return x
    }

    /// A⁻¹ (e.g. a covariance from a Fisher matrix).
    public func inverse() throws -> Matrix {
        try solve(Matrix.identity(size))
    }

    /// ln det A = 2 Σ ln Lᵢᵢ.
    public var logDeterminant: Double {
        lower.diagonalValues.reduce(0) { $0 + 2 * log($1) }
    }

    /// L z: maps independent unit normals z to a draw with covariance A.
    public func multiplyLower(_ z: [Double]) throws -> [Double] {
        guard z.count == size else { throw LinearAlgebraError.dimensionMismatch(expected: size, got: z.count) }
        var x = z
        guard size > 0 else { return x }
        cblas_dtrmv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, Int32(size), lower.values, Int32(size), &x, 1)
        return x
    }
}
