import Inference
import XCTest

final class TransformTests: XCTestCase {
    let transforms: [ParameterTransform] = [.identity, .lowerBound(2), .upperBound(-1), .interval(lower: -3, upper: 5)]

    func testRoundTripDerivativeAndLogJacobianAgainstFiniteDifferences() {
        let h = 1e-6
        for t in transforms {
            for y in [-4.0, -0.7, 0, 0.3, 2.5] {
                let x = t.constrain(y)
                XCTAssertEqual(t.unconstrain(x), y, accuracy: 1e-9, "\(t) round trip at \(y)")
                let fd = (t.constrain(y + h) - t.constrain(y - h)) / (2 * h)
                XCTAssertEqual(t.derivative(y), fd, accuracy: 1e-7 * max(1, abs(fd)), "\(t) dx/dy at \(y)")
                XCTAssertEqual(t.logAbsJacobian(y), log(abs(t.derivative(y))), accuracy: 1e-12, "\(t) log|J| at \(y)")
                let fdJ = (t.logAbsJacobian(y + h) - t.logAbsJacobian(y - h)) / (2 * h)
                XCTAssertEqual(t.logAbsJacobianGradient(y), fdJ, accuracy: 1e-7, "\(t) d log|J|/dy at \(y)")
            }
        }
        // Support: constrained values respect the bounds.
        XCTAssertGreaterThan(ParameterTransform.lowerBound(2).constrain(-30), 2)
        XCTAssertLessThan(ParameterTransform.upperBound(-1).constrain(-30), -1)
        let iv = ParameterTransform.interval(lower: -3, upper: 5)
        XCTAssertGreaterThan(iv.constrain(-30), -3)
        XCTAssertLessThan(iv.constrain(30), 5 + 1e-12)
        // Stable in the far tails (no NaN).
        XCTAssertTrue(iv.logAbsJacobian(800).isFinite)
        XCTAssertTrue(iv.logAbsJacobian(-800).isFinite)
    }

    func testTransformedDensityGradientMatchesFiniteDifferences() throws {
        // x0 ∈ ℝ ~ N(1, 2²); x1 > 0 ~ LogNormal(0.3, 0.5); x2 ∈ (0, 1) ~ Beta(2, 3); x3 < −1 ~ −1 − Exp(1.5)
        let base = ClosureDensity(dimension: 4) { x in
            let l0 = -0.5 * pow((x[0] - 1) / 2, 2)
            let l1 = -log(x[1]) - 0.5 * pow((log(x[1]) - 0.3) / 0.5, 2)
            let l2 = log(x[2]) + 2 * log(1 - x[2])
            let l3 = -1.5 * (-1 - x[3])
            let g = [-(x[0] - 1) / 4,
                     -1 / x[1] - (log(x[1]) - 0.3) / (0.25 * x[1]),
                     1 / x[2] - 2 / (1 - x[2]),
                     1.5]
            return (l0 + l1 + l2 + l3, g)
        }
        for includeJacobian in [true, false] {
            let d = TransformedDensity(base, transforms: [.identity, .lowerBound(0), .interval(lower: 0, upper: 1), .upperBound(-1)],
                                       includeJacobian: includeJacobian)
            for y in [[0.2, -0.4, 0.7, 0.1], [-1.5, 1.2, -2.0, -0.8]] {
                let g = try d.logDensityAndGradient(y).gradient
                let fd = try centralDifferenceGradient(d, at: y)
                for i in 0..<4 { XCTAssertEqual(g[i], fd[i], accuracy: 1e-6 * max(1, abs(fd[i])), "component \(i)") }
            }
            let x = [0.5, 2.0, 0.25, -3.0]
            let y = d.unconstrain(x)
            for (a, b) in zip(d.constrain(y), x) { XCTAssertEqual(a, b, accuracy: 1e-12) }
            // Value: base + Σ log|J| (or just base).
            let jac = zip(d.transforms, y).reduce(0) { $0 + $1.0.logAbsJacobian($1.1) }
            XCTAssertEqual(try d.logDensityAndGradient(y).value,
                           try base.logDensityAndGradient(x).value + (includeJacobian ? jac : 0), accuracy: 1e-12)
        }
    }

    func testClosureDensityPassesThrough() throws {
        let d = ClosureDensity(dimension: 2) { x in (-0.5 * (x[0] * x[0] + x[1] * x[1]), [-x[0], -x[1]]) }
        XCTAssertEqual(d.dimension, 2)
        let r = try d.logDensityAndGradient([1, 2])
        XCTAssertEqual(r.value, -2.5)
        XCTAssertEqual(r.gradient, [-1, -2])
    }
}
