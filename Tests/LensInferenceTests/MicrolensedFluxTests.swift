import Foundation
import LensInference
import Microlensing
import TesseraSupport
import XCTest

final class MicrolensedFluxTests: XCTestCase {
    /// Brute force: ∫ p(x) N(F; m₀ 10ˣ, σ) dx by a 2000-point midpoint rule inside each table bin.
    func bruteForce(_ pdf: MicrolensedFlux.ImagePDF, flux: Double, sigma: Double, macroFlux: Double) -> Double {
        var sum = 0.0
        let n = 2000
        for b in 0..<pdf.density.count where pdf.density[b] > 0 {
            let h = (pdf.edges[b + 1] - pdf.edges[b]) / Double(n)
            for i in 0..<n {
                let m = macroFlux * pow(10, pdf.edges[b] + (Double(i) + 0.5) * h)
                sum += pdf.density[b] * exp(-0.5 * pow((flux - m) / sigma, 2)) / (sigma * sqrt(2 * .pi)) * h
            }
        }
        return sum
    }

    func testQuadratureMatchesBruteForceForNarrowAndWideErrors() throws {
        let ml = Fixtures.microlensing
        // A minimum-like and a saddle-like image.
        for (k, g, s) in [(0.45, 0.35, 0.5), (0.65, 0.55, 0.3)] {
            let pdf = try ml.pdf(kappa: k, gamma: g, s: s, sourceSize: 0, lens: "t", image: 0)
            for (flux, sigma) in [(95.0, 1.0), (95.0, 5.0), (60.0, 30.0), (150.0, 0.3), (20.0, 2.0)] {
                let q = ml.likelihood(flux: flux, sigma: sigma, macroFlux: 100, pdf: pdf)
                let b = bruteForce(pdf, flux: flux, sigma: sigma, macroFlux: 100)
                XCTAssertGreaterThan(b, 0)
                // Chord bound (r − 1)² r / 4 = 2.2e-4 for Δx = 0.05 / 4; the brute force itself is good to ~1e-4.
                XCTAssertEqual(q / b, 1, accuracy: 4e-4, "(κ,γ,s)=(\(k),\(g),\(s)) F=\(flux) σ=\(sigma)")
            }
        }
    }

    /// The mock's flux noise is the likelihood's sampling density: on fluxes drawn as `MockPopulation.observe` draws
    /// them (a factor from the PDF, then `SurveySettings.observedFlux`), the score ∂ ln p(F | m₀)/∂ ln m₀ at the true
    /// m₀ has mean zero within 4 standard errors. With σ_F proportional to the microlensed flux (the former mock,
    /// whose σ_F told the factor) the mean is many standard errors negative: the test can fail.
    func testMockFluxNoiseIsTheLikelihoodsSamplingDensity() throws {
        let ml = Fixtures.microlensing
        // A minimum with much smooth matter (a narrow PDF, where σ_F matters beside the microlensing spread).
        let pdf = try ml.pdf(kappa: 0.35, gamma: 0.2, s: 0.9, sourceSize: 0, lens: "t", image: 0)
        let survey = SurveySettings(), m0 = 200.0
        func meanScore(_ draw: (inout RandomSource) -> (flux: Double, error: Double)) -> (mean: Double, standardError: Double) {
            var rng = RandomSource(seed: 3, stream: 0)
            var scores: [Double] = []
            for _ in 0..<20_000 {
                let (f, sigma) = draw(&rng)
                let h = 1e-4
                let up = log(ml.likelihood(flux: f, sigma: sigma, macroFlux: m0 * exp(h), pdf: pdf))
                let down = log(ml.likelihood(flux: f, sigma: sigma, macroFlux: m0 * exp(-h), pdf: pdf))
                scores.append((up - down) / (2 * h))
            }
            let mean = scores.reduce(0, +) / Double(scores.count)
            let variance = scores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(scores.count - 1)
            return (mean, (variance / Double(scores.count)).squareRoot())
        }
        let now = meanScore { rng in
            let k = MicrolensedFlux.drawFactor(pdf, rng: &rng)
            return survey.observedFlux(macroFlux: m0, microlensingFactor: k, rng: &rng)
        }
        XCTAssertLessThan(abs(now.mean), 4 * now.standardError, "mean score \(now.mean) ± \(now.standardError)")
        let former = meanScore { rng in
            let k = MicrolensedFlux.drawFactor(pdf, rng: &rng)
            let sigma = survey.fluxErrorFraction * m0 * k
            return (m0 * k + sigma * rng.normal(), sigma)
        }
        XCTAssertLessThan(former.mean, -4 * former.standardError, "former mock: mean score \(former.mean) ± \(former.standardError)")
    }

    func testLikelihoodIsANormalisedDensityInFlux() throws {
        let ml = Fixtures.microlensing
        let pdf = try ml.pdf(kappa: 0.6, gamma: 0.5, s: 0.5, sourceSize: 0.2, lens: "t", image: 0)
        // ∫ p(F | m₀) dF = 1 with a constant σ: m₀ = 10, σ = 0.5, F from −5 to 400 (the table reaches 10^1.5 m₀).
        var total = 0.0
        let n = 4050, lo = -5.0, step = 0.1
        for i in 0..<n {
            total += ml.likelihood(flux: lo + (Double(i) + 0.5) * step, sigma: 0.5, macroFlux: 10, pdf: pdf) * step
        }
        XCTAssertEqual(total, 1, accuracy: 5e-4)  // the chord bias is ≤ 2.2e-4
    }

    func testDrawsFollowThePDF() throws {
        let pdf = try Fixtures.microlensing.pdf(kappa: 0.65, gamma: 0.55, s: 0.3, sourceSize: 0, lens: "t", image: 0)
        var rng = RandomSource(seed: 3)
        let n = 20_000
        var meanX = 0.0, meanMu = 0.0
        for _ in 0..<n {
            let f = MicrolensedFlux.drawFactor(pdf, rng: &rng)
            meanX += log10(f) / Double(n)
            meanMu += f / Double(n)
        }
        var expectX = 0.0, expectMu = 0.0, varX = 0.0
        for b in 0..<pdf.density.count {
            let a = pdf.edges[b], c = pdf.edges[b + 1], p = pdf.density[b] * (c - a)
            expectX += p * 0.5 * (a + c)
            varX += p * (a * a + a * c + c * c) / 3
            expectMu += pdf.density[b] * (pow(10, c) - pow(10, a)) / log(10)
        }
        varX -= expectX * expectX
        XCTAssertEqual(meanX, expectX, accuracy: 4 * (varX / Double(n)).squareRoot())
        XCTAssertEqual(meanMu, expectMu, accuracy: 0.03 * expectMu)
        // The table's maps keep ⟨μ⟩ ≈ μ_th, so the mean factor is near 1 while the median is not.
        XCTAssertEqual(expectMu, 1, accuracy: 0.15)
    }

    func testQueryOutsideTheTableNamesLensImageAndKappaGammaS() {
        XCTAssertThrowsError(try Fixtures.microlensing.pdf(kappa: 1.4, gamma: 0.3, s: 0.5, sourceSize: 0, lens: "lens-42", image: 2)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("lens 'lens-42', image 2"), text)
            XCTAssertTrue(text.contains("(κ, γ, s) = (1.4, 0.3, 0.5)"), text)
            XCTAssertTrue(text.contains("κ = 1.4 is outside"), text)
        }
        // Too near the critical line |1 − κ| = γ (margin 0.04).
        XCTAssertThrowsError(try Fixtures.microlensing.pdf(kappa: 0.5, gamma: 0.48, s: 0.5, sourceSize: 0, lens: "L", image: 1)) { e in
            XCTAssertTrue("\(e)".contains("critical line"), "\(e)")
        }
    }
}
