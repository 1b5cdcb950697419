import COpenBLAS

/// A dense matrix of doubles, stored row-major (C order), as used for mass matrices,
/// covariances and Fisher matrices.
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let columns: Int
    /// Row-major elements: element (i, j) is `values[i * columns + j]`.
    public var values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns, "a \(rows)×\(columns) matrix needs \(rows * columns) values, got \(values.count)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix from nested rows, e.g. `Matrix([[4, 2], [2, 3]])`.
    public init(_ rowArrays: [[Double]]) {
        let columns = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == columns }, "rows of unequal length")
        self.init(rows: rowArrays.count, columns: columns, values: rowArrays.flatMap { $0 })
    }

    public static func zeros(_ rows: Int, _ columns: Int) -> Matrix {
        Matrix(rows: rows, columns: columns, values: [Double](repeating: 0, count: rows * columns))
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = zeros(n, n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    /// A diagonal matrix.
    public static func diagonal(_ d: [Double]) -> Matrix {
        var m = zeros(d.count, d.count)
        for (i, x) in d.enumerated() { m[i, i] = x }
        return m
    }

    public subscript(i: Int, j: Int) -> Double {
        get { values[i * columns + j] }
        set { values[i * columns + j] = newValue }
    }

    public var isSquare: Bool { rows == columns }

    public var transposed: Matrix {
        var t = Matrix.zeros(columns, rows)
        for i in 0..<rows { for j in 0..<columns { t[j, i] = self[i, j] } }
        return t
    }

    public var diagonalValues: [Double] { (0..<Swift.min(rows, columns)).map { self[$0, $0] } }

    /// Matrix–vector product (BLAS dgemv).
    public func multiply(_ x: [Double]) -> [Double] {
        precondition(x.count == columns, "vector of length \(x.count) for a \(rows)×\(columns) matrix")
        var y = [Double](repeating: 0, count: rows)
        guard rows > 0, columns > 0 else { return y }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, values, Int32(columns), x, 1, 0, &y, 1)
        return y
    }

    /// Matrix–matrix product (BLAS dgemm).
    public func multiply(_ other: Matrix) -> Matrix {
        precondition(columns == other.rows, "cannot multiply \(rows)×\(columns) by \(other.rows)×\(other.columns)")
        var c = Matrix.zeros(rows, other.columns)
        guard rows > 0, columns > 0, other.columns > 0 else { return c }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(other.columns), Int32(columns),
                    1, values, Int32(columns), other.values, Int32(other.columns), 0, &c.values, Int32(other.columns))
        return c
    }

    /// y = A x for symmetric A, reading only the lower triangle (BLAS dsymv). This is the product
    /// a dense mass matrix or covariance needs; the upper triangle may hold anything.
    public func symmetricMultiply(_ x: [Double]) -> [Double] {
        precondition(isSquare && x.count == rows, "symmetricMultiply needs a square matrix and a matching vector")
        var y = [Double](repeating: 0, count: rows)
        guard rows > 0 else { return y }
        cblas_dsymv(CblasRowMajor, CblasLower, Int32(rows), 1, values, Int32(rows), x, 1, 0, &y, 1)
        return y
    }

    public var description: String {
        (0..<rows).map { i in (0..<columns).map { j in "\(self[i, j])" }.joined(separator: " ") }.joined(separator: "\n")
    }
}
