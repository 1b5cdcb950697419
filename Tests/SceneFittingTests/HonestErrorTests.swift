import Foundation
import XCTest
import Inference
import SceneModel
import TesseraLinAlg
import Astrometry
@testable import SceneFitting

/// Laplace errors are never a constant: a negative Hessian that is not positive definite is
/// regularised (|λ|, floored) and the sources involved carry `FitFlags.laplaceRegularised`.
final class HonestErrorTests: XCTestCase {
    /// log p = −½(x−1)² + ½ y² − ¼ z²: a saddle at (1, 0, 0) with −H = diag(1, −1, ½).
    struct Saddle: LogDensity {
        var dimension: Int { 3 }
        func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
            (-0.5 * (x[0] - 1) * (x[0] - 1) + 0.5 * x[1] * x[1] - 0.25 * x[2] * x[2], [-(x[0] - 1), x[1], -0.5 * x[2]])
        }
    }

    func testPositiveDefiniteIsThePlainInverse() throws {
        let a = Matrix([[4, 1], [1, 3]])
        let r = try RegularisedLaplace(precision: a)
        XCTAssertFalse(r.regularised)
        XCTAssertTrue(r.affected.isEmpty)
        let inv = try Cholesky(a).inverse()
        for i in 0..<4 { XCTAssertEqual(r.covariance.values[i], inv.values[i], accuracy: 1e-14) }
    }

    /// An indefinite, rotated precision: eigenvalues 4 and −2 in the (0, 1) plane, 0.5 alone.
    func testIndefinitePrecisionIsRegularisedByAbsoluteEigenvalues() throws {
        let c = cos(0.3), s = sin(0.3)
        let v = Matrix([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        let a = v.multiply(Matrix.diagonal([4, -2, 0.5])).multiply(v.transposed)
        let r = try RegularisedLaplace(precision: a)
        XCTAssertTrue(r.regularised)
        XCTAssertEqual(r.affected, [0, 1], "the −2 direction mixes parameters 0 and 1, not 2")
        let expected = v.multiply(Matrix.diagonal([1.0 / 4, 1.0 / 2, 2])).multiply(v.transposed)
        for i in 0..<9 { XCTAssertEqual(r.covariance.values[i], expected.values[i], accuracy: 1e-12) }
        XCTAssertNotNil(try? Cholesky(r.covariance), "the regularised covariance is positive definite")
    }

    /// A flat direction becomes a very large, finite variance (10¹⁰ / largest |λ|).
    func testSingularPrecisionGetsAHugeFiniteVariance() throws {
        let r = try RegularisedLaplace(precision: Matrix([[2, 0], [0, 0]]))
        XCTAssertTrue(r.regularised)
        XCTAssertEqual(r.affected, [1])
        XCTAssertEqual(r.covariance[0, 0], 0.5, accuracy: 1e-14)
        XCTAssertEqual(r.covariance[1, 1], 1 / (2e-10), accuracy: 1)
        XCTAssertThrowsError(try RegularisedLaplace(precision: Matrix([[.nan, 0], [0, 1]])))
    }

    /// The sampler's starting metric where −H is not positive definite keeps each parameter's
    /// own scale: parameters of widths 10⁻³, 10² and 1 (as a position, a flux and a shape in
    /// their coordinates), correlated, with one direction curved the wrong way and one flat.
    /// Every variance of the metric lies within 10⁻²…10² of its parameter's width²; the unit
    /// metric used before (variance 1 for a width of 10⁻³, i.e. 10⁶ too wide) and the
    /// regularised covariance (10¹⁰ along the flat direction) both fail that.
    func testSamplerMetricKeepsEachParametersScale() throws {
        let widths = [1e-3, 1e2, 1.0]
        // A correlation-like matrix with eigenvalues 2, −0.5 and 0 in rotated directions.
        let c = cos(0.4), s = sin(0.4)
        let v = Matrix([[c, -s, 0], [s * 0.6, c * 0.6, 0.8], [-s * 0.8, -c * 0.8, 0.6]])
        let r0 = v.multiply(Matrix.diagonal([2, -0.5, 0])).multiply(v.transposed)
        var a = r0
        for i in 0..<3 { for j in 0..<3 { a[i, j] = r0[i, j] / (widths[i] * widths[j]) } }
        let r = try RegularisedLaplace(precision: a)
        XCTAssertTrue(r.regularised)
        XCTAssertNotNil(try? Cholesky(r.samplerMetric), "positive definite")
        let d = (0..<3).map { a[$0, $0] > 0 ? 1 / a[$0, $0].squareRoot() : 1 }
        for i in 0..<3 {
            let ratio = r.samplerMetric[i, i] / (d[i] * d[i])
            XCTAssertTrue((1e-2...(1 + 1e-9) / RegularisedLaplace.metricFloor).contains(ratio), "parameter \(i): metric variance \(r.samplerMetric[i, i]) against width² \(d[i] * d[i])")
        }
        // The same bound fails for the former stand-ins: the unit metric on the position-like
        // parameter, the regularised covariance on the flux-like one (6 × 10³ its width²).
        XCTAssertFalse((1e-2...1e2).contains(1 / (d[0] * d[0])))
        XCTAssertFalse((1e-2...1e2).contains(r.covariance[1, 1] / (d[1] * d[1])))
        // Positive definite −H: the metric is the covariance itself.
        let pd = try RegularisedLaplace(precision: Matrix([[4, 1], [1, 3]]))
        XCTAssertEqual(pd.samplerMetric.values, pd.covariance.values)
    }

    func testSaddleOfADensity() throws {
        XCTAssertThrowsError(try laplaceCovariance(Saddle(), at: [1, 0, 0]), "precondition: not a maximum")
        let r = try RegularisedLaplace(Saddle(), at: [1, 0, 0])
        XCTAssertTrue(r.regularised)
        XCTAssertEqual(r.affected, [1])
        XCTAssertEqual(r.covariance[0, 0], 1, accuracy: 1e-6)
        XCTAssertEqual(r.covariance[1, 1], 1, accuracy: 1e-6)
        XCTAssertEqual(r.covariance[2, 2], 2, accuracy: 1e-6)
    }

    /// A patch whose reported optimum is not a maximum (the optimiser given no iterations from
    /// a poor start): the errors are the regularised Laplace errors, the source is flagged, and
    /// no error is the old fallback (1 for a flux, 0.25 × the position window for ξ, η).
    func testPatchFitterFlagsANonPositiveDefiniteOptimum() throws {
        let (posterior, _, start) = try PatchFitterTests.makePosterior(seed: 3)
        var poor = start
        poor[0] = 20; poor[1] = 900; poor[2] = 0.35; poor[7] = 1.2
        let y = posterior.unconstrain(posterior.clampedInside(poor))
        XCTAssertThrowsError(try laplaceCovariance(posterior, at: y), "precondition: −H is not positive definite here")
        var settings = FitSettings()
        settings.mode = .optimize
        settings.optimizerIterations = 0
        let fit = try PatchFitter.fit(posterior: posterior, start: poor, covariances: [nil], settings: settings, seed: 1, stream: 0)
        XCTAssertEqual(fit.covarianceFlags, [.laplaceRegularised])
        let expected = try RegularisedLaplace(posterior, at: y)
        for i in 0..<64 { XCTAssertEqual(fit.covariances[0][i], expected.covariance.values[i], accuracy: 1e-9 * abs(expected.covariance.values[i]) + 1e-300) }
        let summary = FitSummary(fit: fit, posterior: posterior, plane: TangentPlane(ra0: 10, dec0: 10),
                                 active: [Source(id: 1, ra: 10, dec: 10, flux: [1, 1], isPoint: false)], bands: ["A", "B"], sampled: false)
        XCTAssertEqual(summary.flags, [.laplaceRegularised])
        for (name, sd) in summary.uncertainties[0] {
            XCTAssertTrue(sd.isFinite && sd > 0, "\(name): \(sd)")
            XCTAssertNotEqual(sd, 1, "\(name) is the old constant")
            XCTAssertNotEqual(sd, 0.25, "\(name) is the old constant")
        }
    }

    /// A good optimum is not flagged, and its errors are the plain Laplace covariance.
    func testAGoodOptimumIsNotFlagged() throws {
        let (posterior, _, start) = try PatchFitterTests.makePosterior(seed: 3)
        var settings = FitSettings()
        settings.mode = .optimize
        let fit = try PatchFitter.fit(posterior: posterior, start: start, covariances: [nil], settings: settings, seed: 1, stream: 0)
        XCTAssertEqual(fit.covarianceFlags, [[]])
        let laplace = try laplaceCovariance(posterior, at: posterior.unconstrain(fit.final))
        XCTAssertEqual(fit.covariances[0][0], laplace[0, 0], accuracy: 1e-6 * laplace[0, 0])
    }

    func testFlagBitsAreTheDocumentedOnes() {
        XCTAssertEqual(FitFlags.flagged.rawValue, 1)
        XCTAssertEqual(FitFlags.laplaceRegularised.rawValue, 2)
        XCTAssertEqual(FitFlags.notConverged.rawValue, 4)
    }
}
