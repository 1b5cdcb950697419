import XCTest
@testable import TesseraLinAlg

final class CholeskyTests: XCTestCase {
    /// A = L Lᵀ with L = [[2,0,0],[6,1,0],[-8,5,3]] (the classic textbook example).
    let a = Matrix([[4, 12, -16], [12, 37, -43], [-16, -43, 98]])
    let l = Matrix([[2, 0, 0], [6, 1, 0], [-8, 5, 3]])

    func testFactorMatchesKnownL() throws {
        let c = try Cholesky(a)
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(c.lower[i, j], l[i, j], accuracy: 1e-12) } }
        XCTAssertEqual(c.logDeterminant, log(36.0), accuracy: 1e-12)  // det A = (2·1·3)² = 36
    }

    func testSolveAgainstKnownAnswer() throws {
        // A x = b with x = (1, -2, 0.5)
        let x = [1.0, -2.0, 0.5]
        let b = a.multiply(x)
        let expectedB: [Double] = [-28, -83.5, 119]  // rows of A times x, by hand
        XCTAssertEqual(b, expectedB)
        let solved = try Cholesky(a).solve(b)
        for (s, t) in zip(solved, x) { XCTAssertEqual(s, t, accuracy: 1e-10) }
        // Triangular halves: L y = b then Lᵀ x = y
        let c = try Cholesky(a)
        let y = try c.solveLower(b)
        XCTAssertEqual(l.multiply(y).enumerated().map { abs($1 - b[$0]) }.max()!, 0, accuracy: 1e-10)
        let x2 = try c.solveUpper(y)
        for (s, t) in zip(x2, x) { XCTAssertEqual(s, t, accuracy: 1e-10) }
    }

    func testInverseAndMatrixSolve() throws {
        let inv = try Cholesky(a).inverse()
        let product = a.multiply(inv)
        for i in 0..<3 { for j in 0..<3 { XCTAssertEqual(product[i, j], i == j ? 1 : 0, accuracy: 1e-9) } }
    }

    func testMultiplyLowerGivesCovariance() throws {
        let c = try Cholesky(a)
        XCTAssertEqual(try c.multiplyLower([1, 0, 0]), [2, 6, -8])
        XCTAssertEqual(try c.multiplyLower([0, 1, 1]), [0, 1, 8])
    }

    func testNotPositiveDefinite() {
        XCTAssertThrowsError(try Cholesky(Matrix([[1, 2], [2, 1]]))) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .notPositiveDefinite(order: 2, size: 2))
        }
        XCTAssertThrowsError(try Cholesky(Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])))
        XCTAssertThrowsError(try Cholesky(a).solve([1, 2])) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .dimensionMismatch(expected: 3, got: 2))
        }
    }

    func testSymmetricMultiplyReadsLowerTriangleOnly() {
        var lowerOnly = a
        lowerOnly[0, 1] = 999; lowerOnly[0, 2] = -999; lowerOnly[1, 2] = 12345
        XCTAssertEqual(lowerOnly.symmetricMultiply([1, 1, 1]), a.multiply([1, 1, 1]))
        XCTAssertEqual(a.multiply([1, 1, 1]), [0, 6, 39])
    }

    func testMatrixProductAndTranspose() {
        XCTAssertEqual(l.multiply(l.transposed), a)
        XCTAssertEqual(Matrix.identity(3).multiply(a), a)
        XCTAssertEqual(Matrix.diagonal([2, 3]).multiply([1, 1]), [2, 3])
    }
}
