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
