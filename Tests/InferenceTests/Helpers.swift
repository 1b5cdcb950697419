import Inference
import TesseraLinAlg
import TesseraSupport
import XCTest

/// A multivariate normal N(μ, Σ) as a LogDensity (through its precision P = Σ⁻¹).
struct GaussianDensity: LogDensity {
    let mean: [Double]
    let precision: Matrix
    var dimension: Int { mean.count }

    init(mean: [Double], covariance: Matrix) throws {
        self.mean = mean
        self.precision = try Cholesky(covariance).inverse()
    }

    func logDensityAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
        let d = zip(x, mean).map { $0 - $1 }
        let pd = precision.multiply(d)
        let v = -0.5 * zip(d, pd).reduce(0) { $0 + $1.0 * $1.1 }
        return (v, pd.map { -$0 })
    }
}

func centralDifferenceGradient<D: LogDensity>(_ d: D, at x: [Double], h: Double = 1e-6) throws -> [Double] {
    try (0..<x.count).map { i in
        var xp = x, xm = x
        xp[i] += h; xm[i] -= h
        return (try d.logDensityAndGradient(xp).value - d.logDensityAndGradient(xm).value) / (2 * h)
    }
}

func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }

func covariance(_ a: [Double], _ b: [Double]) -> Double {
    let ma = mean(a), mb = mean(b)
    return zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) } / Double(a.count - 1)
}

/// Checks the sample mean, variances and covariances of `result` against a Gaussian's, with
/// tolerances of `k` Monte-Carlo standard errors computed from each parameter's split ESS.
func assertMatchesGaussian(_ result: SampleResult, mean mu: [Double], covariance sigma: Matrix, k: Double = 5,
                           file: StaticString = #filePath, line: UInt = #line) {
    let n = mu.count
    for i in 0..<n {
        let ci = result.chain(i)
        let essI = Diagnostics.splitEffectiveSampleSize([ci])
        XCTAssertGreaterThan(essI, 50, "ESS of parameter \(i)", file: file, line: line)
        let sdI = sigma[i, i].squareRoot()
        XCTAssertEqual(mean(ci), mu[i], accuracy: k * sdI / essI.squareRoot(), "mean \(i)", file: file, line: line)
        for j in 0...i {
            let cj = result.chain(j)
            let essJ = Diagnostics.splitEffectiveSampleSize([cj])
            let ess = min(essI, essJ)
            // Var of a sample covariance ≈ (σᵢᵢσⱼⱼ + σᵢⱼ²)/ESS.
            let se = ((sigma[i, i] * sigma[j, j] + sigma[i, j] * sigma[i, j]) / ess).squareRoot()
            XCTAssertEqual(covariance(ci, cj), sigma[i, j], accuracy: k * se, "cov \(i),\(j)", file: file, line: line)
        }
    }
}
