import Inference
import TesseraLinAlg
import XCTest

final class LBFGSTests: XCTestCase {
    /// log p = −Rosenbrock(x, y) = −[(1 − x)² + 100 (y − x²)²].
    let rosenbrock = ClosureDensity(dimension: 2) { q in
        let (x, y) = (q[0], q[1])
        let f = (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)
        let gx = -2 * (1 - x) - 400 * x * (y - x * x)
        let gy = 200 * (y - x * x)
        return (-f, [-gx, -gy])
    }

    func testRosenbrockMinimum() throws {
        let r = try LBFGS().maximize(rosenbrock, initial: [-1.2, 1])
        XCTAssertTrue(r.converged, "\(r.status)")
        XCTAssertEqual(r.x[0], 1, accuracy: 1e-5)
        XCTAssertEqual(r.x[1], 1, accuracy: 1e-5)
        XCTAssertEqual(r.logDensity, 0, accuracy: 1e-10)
        XCTAssertLessThan(r.iterations, 100)
        // Hessian of the Rosenbrock function at (1, 1) is [[802, −400], [−400, 200]].
        let h = try finiteDifferenceHessian(rosenbrock, at: [1, 1])
        XCTAssertEqual(-h[0, 0], 802, accuracy: 1e-3)
        XCTAssertEqual(-h[0, 1], -400, accuracy: 1e-3)
        XCTAssertEqual(-h[1, 1], 200, accuracy: 1e-3)
    }

    func testGaussianModeAndLaplaceCovariance() throws {
        let mu = [1.0, -2.0, 0.5, 3.0]
        let sigma = Matrix([[2.0, 0.3, 0.0, -0.4],
                            [0.3, 1.0, 0.2, 0.0],
                            [0.0, 0.2, 0.5, 0.1],
                            [-0.4, 0.0, 0.1, 4.0]])
        let d = try GaussianDensity(mean: mu, covariance: sigma)
        for m in [2, 10] {
            let r = try LBFGS(memory: m).maximize(d, initial: [0, 0, 0, 0])
            XCTAssertTrue(r.converged, "\(r.status)")
            for i in 0..<4 { XCTAssertEqual(r.x[i], mu[i], accuracy: 1e-6) }
            let cov = try laplaceCovariance(d, at: r.x)
            for i in 0..<4 { for j in 0..<4 { XCTAssertEqual(cov[i, j], sigma[i, j], accuracy: 1e-6) } }
        }
    }

    /// Widths spanning five decades (like a flux of ~2000 ± 30 counts beside logit positions and
    /// shapes of width ~0.02), correlated in blocks of three and not quite Gaussian: the
    /// `curvatureScales` at a start 3 widths out are the widths within 50%, and L-BFGS in those
    /// scaled coordinates converges to within 0.001 widths of the mode in fewer than 100
    /// iterations, returning x and ∂ log p/∂x in the original coordinates. (Unscaled, L-BFGS
    /// also gets there on this smooth toy, in 41 iterations; the 21-parameter blend fits that
    /// it did not finish are tested in StampFitterTests.testTripletJointFinishConverges.)
    func testScalingByCurvatureConvergesOnABadlyScaledDensity() throws {
        let n = 21
        var widths: [Double] = [], mode: [Double] = [], start: [Double] = []
        for i in 0..<n {
            let decades: Double = -2 + 5 * Double((i * 7) % n) / Double(n - 1)
            let w: Double = pow(10, decades)
            let m: Double = w * Double(i % 5) + (i % 3 == 0 ? 1000 : 0)
            widths.append(w)
            mode.append(m)
            start.append(m + (i % 2 == 0 ? 3 : -3) * w)
        }
        let density = ClosureDensity(dimension: n) { x in
            let z = (0..<n).map { (x[$0] - mode[$0]) / widths[$0] }
            var value = 0.0
            var dz = [Double](repeating: 0, count: n)
            for i in 0..<n {
                value -= 0.5 * z[i] * z[i] + 0.02 * pow(z[i], 4)
                dz[i] -= z[i] + 0.08 * pow(z[i], 3)
            }
            for b in stride(from: 0, to: n, by: 3) {
                // A correlation of 0.6 between the block's neighbours (−H stays positive definite).
                value -= 0.6 * (z[b] * z[b + 1] + z[b + 1] * z[b + 2])
                dz[b] -= 0.6 * z[b + 1]
                dz[b + 1] -= 0.6 * (z[b] + z[b + 2])
                dz[b + 2] -= 0.6 * z[b + 1]
            }
            return (value, (0..<n).map { dz[$0] / widths[$0] })
        }
        var lbfgs = LBFGS()
        lbfgs.maxIterations = 300
        lbfgs.gradientTolerance = 1e-6
        let scales = try curvatureScales(density, at: start)
        for i in 0..<n { XCTAssertEqual(scales[i] / widths[i], 1, accuracy: 0.5, "parameter \(i)") }
        let scaled = try lbfgs.maximize(density, initial: start, scales: scales)
        XCTAssertTrue(scaled.converged, "scaled: \(scaled.status)")
        XCTAssertLessThan(scaled.iterations, 100)
        for i in 0..<n { XCTAssertEqual((scaled.x[i] - mode[i]) / widths[i], 0, accuracy: 1e-3, "parameter \(i)") }
        // The gradient comes back in the original coordinates.
        let g = try density.logDensityAndGradient(scaled.x).gradient
        for i in 0..<n { XCTAssertEqual(scaled.gradient[i], g[i], accuracy: 1e-9 * max(1, abs(g[i]))) }
    }

    /// A coordinate along which log p is convex at the point keeps scale 1 (the scales only
    /// precondition; nothing made up is reported).
    func testCurvatureScalesOfAConvexDirectionAreOne() throws {
        let d = ClosureDensity(dimension: 2) { x in (-x[0] * x[0] / (2 * 0.25) + x[1] * x[1], [-x[0] / 0.25, 2 * x[1]]) }
        let s = try curvatureScales(d, at: [0.3, 0.2])
        XCTAssertEqual(s[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(s[1], 1)
    }

    func testBoundedModeViaTransformWithoutJacobian() throws {
        // Gamma(shape 3, rate 2) on x > 0 has its mode at (3 − 1)/2 = 1.
        let base = ClosureDensity(dimension: 1) { x in
            (2 * log(x[0]) - 2 * x[0], [2 / x[0] - 2])
        }
        let d = TransformedDensity(base, transforms: [.lowerBound(0)], includeJacobian: false)
        let r = try LBFGS().maximize(d, initial: [2])
        XCTAssertEqual(d.constrain(r.x)[0], 1, accuracy: 1e-6)
    }

    func testLaplaceCovarianceRejectsSaddle() throws {
        // log p = x² − y² has a saddle at the origin: −H is indefinite.
        let saddle = ClosureDensity(dimension: 2) { q in (q[0] * q[0] - q[1] * q[1], [2 * q[0], -2 * q[1]]) }
        XCTAssertThrowsError(try laplaceCovariance(saddle, at: [0, 0])) {
            guard case .notPositiveDefinite = $0 as? LinearAlgebraError else { return XCTFail("\($0)") }
        }
    }

    func testInfeasibleRegionsAreAvoided() throws {
        // log p = log x − x on x > 0, −∞ elsewhere; the first full step overshoots into x < 0.
        let d = ClosureDensity(dimension: 1) { x in
            x[0] > 0 ? (log(x[0]) - x[0], [1 / x[0] - 1]) : (-.infinity, [0])
        }
        let r = try LBFGS().maximize(d, initial: [0.05])
        XCTAssertTrue(r.converged, "\(r.status)")
        XCTAssertEqual(r.x[0], 1, accuracy: 1e-6)
    }
}
