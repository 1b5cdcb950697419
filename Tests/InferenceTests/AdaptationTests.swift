@testable import Inference
import TesseraLinAlg
import TesseraSupport
import XCTest

final class AdaptationTests: XCTestCase {
    /// Stan's documented schedule for 1000 warm-up iterations: 75 fast, slow windows of
    /// 25, 50, 100, 200, 500, then 50 fast.
    func testWindowScheduleMatchesStan() {
        var w = AdaptationWindows(numWarmup: 1000, initBuffer: 75, termBuffer: 50, baseWindow: 25)
        var ends: [Int] = []
        var adaptCount = 0
        for _ in 0..<1000 {
            if w.inAdaptationWindow { adaptCount += 1 }
            if w.atEndOfWindow { ends.append(w.counter); w.computeNextWindow() }
            w.advance()
        }
        XCTAssertEqual(ends, [99, 149, 249, 449, 949])
        XCTAssertEqual(adaptCount, 875)
    }

    /// Short warm-up: buffers become 15 % / 10 % of warm-up, as in Stan; under 20, no metric estimate.
    func testShortWarmupScheduleShrinksBuffers() {
        var w = AdaptationWindows(numWarmup: 100, initBuffer: 75, termBuffer: 50, baseWindow: 25)
        XCTAssertEqual(w.initBuffer, 15)
        XCTAssertEqual(w.termBuffer, 10)
        XCTAssertEqual(w.baseWindow, 75)
        var ends: [Int] = []
        for _ in 0..<100 {
            if w.atEndOfWindow { ends.append(w.counter); w.computeNextWindow() }
            w.advance()
        }
        XCTAssertEqual(ends, [89])
        XCTAssertFalse(AdaptationWindows(numWarmup: 19, initBuffer: 75, termBuffer: 50, baseWindow: 25).estimatesMetric)
    }

    /// Dense metric: momenta p = L⁻ᵀ z have covariance M = (M⁻¹)⁻¹, and K(p) = ½ pᵀM⁻¹p.
    func testDenseMomentumCovarianceIsMassMatrix() throws {
        let inv = Matrix([[2.0, 0.6], [0.6, 0.5]])
        let metric = try EuclideanMetric(kind: .dense, inverseMetric: inv)
        let mass = try Cholesky(inv).inverse()
        var rng = RandomSource(seed: 3)
        let n = 20000
        var c = [0.0, 0.0, 0.0]
        for _ in 0..<n {
            let p = metric.sampleMomentum(&rng, dimension: 2)
            c[0] += p[0] * p[0]; c[1] += p[0] * p[1]; c[2] += p[1] * p[1]
        }
        XCTAssertEqual(c[0] / Double(n), mass[0, 0], accuracy: 0.05 * mass[0, 0])
        XCTAssertEqual(c[1] / Double(n), mass[0, 1], accuracy: 0.05 * abs(mass[0, 0]))
        XCTAssertEqual(c[2] / Double(n), mass[1, 1], accuracy: 0.05 * mass[1, 1])
        let p = [0.3, -1.2]
        XCTAssertEqual(metric.kinetic(p), 0.5 * (2 * 0.09 + 2 * 0.6 * 0.3 * -1.2 + 0.5 * 1.44), accuracy: 1e-12)
        // Same product, possibly through different BLAS kernels (FMA or not, by CPU): equal to rounding.
        for (v, w) in zip(metric.velocity(p), inv.multiply(p)) { XCTAssertEqual(v, w, accuracy: 1e-14) }
    }

    /// Regularised estimate n/(n+5) Σ̂ + 10⁻³·5/(n+5) I (Stan), with the n − 1 sample variance.
    func testRegularisedVarianceEstimate() {
        var e = WelfordEstimator(dimension: 2, dense: true)
        let xs: [[Double]] = [[1, 2], [3, 1], [2, 6], [6, 3], [3, 3]]
        for x in xs { e.add(x) }
        let c = e.regularisedCovariance()
        // Sample covariance of the columns: var0 = 3.5, var1 = 3.5, cov = −0.25
        XCTAssertEqual(c[0, 0], 0.5 * 3.5 + 1e-3 * 0.5, accuracy: 1e-12)
        XCTAssertEqual(c[1, 1], 0.5 * 3.5 + 1e-3 * 0.5, accuracy: 1e-12)
        XCTAssertEqual(c[0, 1], 0.5 * -0.25, accuracy: 1e-12)
        var dgl = WelfordEstimator(dimension: 2, dense: false)
        for x in xs { dgl.add(x) }
        XCTAssertEqual(dgl.regularisedCovariance().diagonalValues, c.diagonalValues)
        XCTAssertEqual(dgl.regularisedCovariance()[0, 1], 0)
    }

    /// Each chain number is an independent, reproducible stream.
    func testChainStreamsDiffer() throws {
        let d = ClosureDensity(dimension: 1) { x in (-0.5 * x[0] * x[0], [-x[0]]) }
        let a = try NUTS().sample(d, initial: [0], warmup: 50, draws: 20, seed: 1, chain: 0)
        let b = try NUTS().sample(d, initial: [0], warmup: 50, draws: 20, seed: 1, chain: 1)
        let a2 = try NUTS().sample(d, initial: [0], warmup: 50, draws: 20, seed: 1, chain: 0)
        XCTAssertNotEqual(a.draws, b.draws)
        XCTAssertEqual(a.draws, a2.draws)
    }
}
