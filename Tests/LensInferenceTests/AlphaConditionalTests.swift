import Foundation
@testable import LensInference
import LensingRuns
import TesseraSupport
import XCTest

/// `AlphaConditional` and the stage-2 weights it gives (`alpha_marginal: conditional`): on a toy lens whose
/// posterior is a known 7-D Gaussian with α correlated with log M_h and with a source coordinate (as in quads),
/// each draw's slice along the regression direction is the α marginal itself; the population density equals the
/// analytic one with no kernel width; its gradient matches differences; on a real mock lens the slices pass through
/// the draws.
final class AlphaConditionalTests: XCTestCase {
    /// α ~ N(1.2, 0.1); log M_h = 13 − 1.5 (α − 1.2) + N(0, 0.1); w₃ = 0.5 + 2 (α − 1.2) + N(0, 0.05); w₁, w₂, w₄, w₅
    /// ~ N(0, 0.1); α on the interim box [0.7, 1.7] (the density is −∞ outside).
    struct ToyLens: AlphaSliceable {
        static let alphaBox = 0.7...1.7
        static func meanMass(_ a: Double) -> Double { 13 - 1.5 * (a - 1.2) }
        func logDensity(_ w: [Double]) throws -> Double {
            let a = w[6]
            guard Self.alphaBox.contains(a) else { return -.infinity }
            func g(_ x: Double, _ s: Double) -> Double { -0.5 * x * x / (s * s) - Double.log(s) }
            return g(a - 1.2, 0.1) + g(w[0] - Self.meanMass(a), 0.1) + g(w[3] - 0.5 - 2 * (a - 1.2), 0.05)
                + g(w[1], 0.1) + g(w[2], 0.1) + g(w[4], 0.1) + g(w[5], 0.1)
        }
        func logHaloMass(_ w: [Double]) -> Double? { w[0] }

        /// Exact draws (α truncated to the box).
        static func draws(_ count: Int, seed: UInt64) -> [[Double]] {
            var rng = RandomSource(seed: seed, stream: 0)
            var out: [[Double]] = []
            while out.count < count {
                let a = 1.2 + 0.1 * rng.normal()
                guard alphaBox.contains(a) else { continue }
                out.append([meanMass(a) + 0.1 * rng.normal(), 0.1 * rng.normal(), 0.1 * rng.normal(),
                            0.5 + 2 * (a - 1.2) + 0.05 * rng.normal(), 0.1 * rng.normal(), 0.1 * rng.normal(), a])
            }
            return out
        }
    }

    static func normalLogPDF(_ x: Double, _ mean: Double, _ sd: Double) -> Double {
        -0.5 * (x - mean) * (x - mean) / (sd * sd) - Double.log(sd * (2 * Double.pi).squareRoot())
    }

    /// Along the regression direction every draw's conditional is the marginal N(1.2, 0.1): width 0.1 (±3%), and
    /// the average of 50 draws' conditionals is the marginal density to 3%; slicing along α alone (b = 0) gives
    /// conditionals of width ≈ 0.025 (σ(w₃)/2), which the bound rejects.
    func testSlicesAlongTheDegeneracyAreTheMarginal() throws {
        let draws = ToyLens.draws(2000, seed: 3)
        let c = try AlphaConditional.compute(ToyLens(), draws: draws, kept: 50, alphaRange: ToyLens.alphaBox, step: 0.01) { $0 }
        XCTAssertEqual(c.gridCount, 101)
        XCTAssertEqual(c.slope[0], -1.5, accuracy: 0.1)
        XCTAssertEqual(c.slope[3], 2, accuracy: 0.05)
        XCTAssertEqual(c.unresolvedDraws, 0)
        for w in c.conditionalWidths { XCTAssertEqual(try XCTUnwrap(w), 0.1, accuracy: 0.003) }
        for alpha in [1.03, 1.2, 1.355] {
            let rb = c.draws.indices.map { Double.exp(c.interpolate($0, alpha: alpha)!.logP) }.reduce(0, +) / Double(c.draws.count)
            XCTAssertEqual(rb, Double.exp(Self.normalLogPDF(alpha, 1.2, 0.1)), accuracy: 0.03 * rb, "α \(alpha)")
        }
        let axis = try AlphaConditional.compute(ToyLens(), draws: draws, kept: 8, alphaRange: ToyLens.alphaBox, step: 0.01,
                                                slope: [0, 0, 0, 0, 0, 0, 0]) { $0 }
        for w in axis.conditionalWidths { XCTAssertLessThan(try XCTUnwrap(w), 0.03) }
        // A draw's slice at its own α is the draw (log M_h interpolated between grid points).
        for j in c.draws.indices {
            let z = try XCTUnwrap(c.parameters(j, alpha: c.draws[j][6]))
            for k in 0..<7 { XCTAssertEqual(z[k], c.draws[j][k], accuracy: 1e-9) }
        }
    }

    /// The population density of one toy lens, differences between η values, against the analytic
    /// ln N(α_sps; 1.2, 0.1) + ln N(μ(α_sps); m̄(α_sps), √(0.1² + σ²)) (the constant-α model, no kernel): within 0.05,
    /// where the analytic values differ by several units (a wrong estimator cannot pass by being flat).
    func testPopulationDensityIsTheConstantAlphaModel() throws {
        let draws = ToyLens.draws(4000, seed: 5)
        let c = try AlphaConditional.compute(ToyLens(), draws: draws, kept: 400, alphaRange: ToyLens.alphaBox, step: 0.01) { $0 }
        let logMsps = 11.3
        let lens = ReweightedPopulation.Lens(id: "toy", logMsps: logMsps, conditional: c, logInterim: -Double.log(3.5))
        let base = PopulationHyperparameters()
        let pop = try ReweightedPopulation(lenses: [lens], selection: nil, alphaKernelWidth: 0.05, base: base)
        func analytic(_ eta: [Double]) -> Double {
            let mu = eta[2] + eta[1] * (logMsps + Double.log10(eta[0]) - base.pivotLogMass)
            return Self.normalLogPDF(eta[0], 1.2, 0.1)
                + Self.normalLogPDF(mu, ToyLens.meanMass(eta[0]), (0.01 + eta[3] * eta[3]).squareRoot())
        }
        let etas = [[1.2, 1.5, 13.1, 0.15], [1.05, 1.2, 13.35, 0.1], [1.33, 1.8, 12.85, 0.25], [1.15, 1.5, 13.4, 0.2], [1.4, 1.5, 12.9, 0.15]]
        let reference = try pop.logDensityAndGradient(etas[0]).value - analytic(etas[0])
        var spread = 0.0
        for eta in etas.dropFirst() {
            let estimate = try pop.logDensityAndGradient(eta).value - reference
            XCTAssertEqual(estimate, analytic(eta), accuracy: 0.05, "η = \(eta)")
            spread = max(spread, abs(analytic(eta) - analytic(etas[0])))
        }
        XCTAssertGreaterThan(spread, 2)
    }

    /// Stage 3's weights: normalised where the lens has support at α_sps; nil and an importance ESS of 0 where no
    /// slice reaches α_sps (outside the interim α box), never a uniform stand-in that would read as ESS = all draws.
    func testWeightsAreNilWhereTheLensHasNoSupport() throws {
        let c = try AlphaConditional.compute(ToyLens(), draws: ToyLens.draws(500, seed: 9), kept: 40,
                                             alphaRange: ToyLens.alphaBox, step: 0.01) { $0 }
        let pop = try ReweightedPopulation(lenses: [ReweightedPopulation.Lens(id: "a", logMsps: 11.3, conditional: c, logInterim: 0)],
                                           selection: nil, alphaKernelWidth: 0.05, base: PopulationHyperparameters())
        let inside = [1.2, 1.5, 13.1, 0.15], outside = [ToyLens.alphaBox.upperBound + 0.1, 1.5, 13.1, 0.15]
        let w = try XCTUnwrap(pop.weights(lens: 0, eta: inside))
        XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertGreaterThan(pop.effectiveSampleSizes(eta: inside)[0], 1)
        XCTAssertNil(pop.weights(lens: 0, eta: outside))
        XCTAssertEqual(pop.effectiveSampleSizes(eta: outside), [0])
    }

    /// Two lenses whose slices reach disjoint α ranges (0.7–1.0 and 1.3–1.7) leave no η with a finite density:
    /// stage 2 says so, naming the lenses and their ranges and what to change, instead of only "no support".
    func testDisjointAlphaSupportsAreNamedWhenStageTwoCannotStart() throws {
        let draws = ToyLens.draws(200, seed: 4)
        let lenses = try [("low", 0.7...1.0), ("high", 1.3...1.7)].map { id, range in
            ReweightedPopulation.Lens(id: id, logMsps: 11.3, conditional: try AlphaConditional.compute(
                ToyLens(), draws: draws, kept: 10, alphaRange: range, step: 0.01) { $0 }, logInterim: 0)
        }
        XCTAssertEqual(try XCTUnwrap(lenses[0].conditional?.supportedAlpha).lowerBound, 0.7, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(lenses[1].conditional?.supportedAlpha).upperBound, 1.7, accuracy: 1e-9)
        let pop = try ReweightedPopulation(lenses: lenses, selection: nil, alphaKernelWidth: 0.05, base: PopulationHyperparameters())
        XCTAssertThrowsError(try InferStages.sampleEta(chain: 0, population: pop, c: InferConfiguration())) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("no α_sps in the box is reached by every lens's slices"), text)
            XCTAssertTrue(text.contains("low α 0.70–1.00") && text.contains("high α 1.30–1.70"), text)
            XCTAssertTrue(text.contains("lens_warmup"), text)
        }
    }

    /// The conditional weights' analytic gradient against central differences in all four η components.
    func testGradientMatchesFiniteDifferences() throws {
        let c = try AlphaConditional.compute(ToyLens(), draws: ToyLens.draws(500, seed: 9), kept: 40,
                                             alphaRange: ToyLens.alphaBox, step: 0.01) { $0 }
        let lenses = [ReweightedPopulation.Lens(id: "a", logMsps: 11.3, conditional: c, logInterim: 0),
                      ReweightedPopulation.Lens(id: "b", logMsps: 11.6, conditional: c, logInterim: 0)]
        let pop = try ReweightedPopulation(lenses: lenses, selection: nil, alphaKernelWidth: 0.05, base: PopulationHyperparameters())
        for eta in [[1.1234, 1.37, 12.93, 0.17], [1.2871, 1.6, 13.2, 0.12]] {
            try assertGradientMatchesDifferences(pop, at: eta, relative: 1e-4)
        }
    }

    /// At an end of a slice's support the density falls linearly to zero over the next grid step (continuous in α,
    /// as the trapezoid normalisation assumes) and log M_h continues linearly; the derivatives there match
    /// differences; beyond, no support.
    func testSliceEndsTaperContinuously() throws {
        let c = AlphaConditional(alphaStart: 1.0, alphaStep: 0.1, gridCount: 6, draws: [[13, 0, 0, 0, 0, 1, 1.2]],
                                 samplingDraws: [[13, 0, 0, 0, 0, 1, 1.2]], slope: [0, 0, 0, 0, 0, 0, 0],
                                 logConditional: [[nil, -2, -1, -1.5, nil, nil]], logHaloMass: [[nil, 13.0, 12.9, 12.8, nil, nil]])
        let left = try XCTUnwrap(c.interpolate(0, alpha: 1.05)), right = try XCTUnwrap(c.interpolate(0, alpha: 1.35))
        XCTAssertEqual(left.logP, -2 + log(0.5), accuracy: 1e-12)
        XCTAssertEqual(right.logP, -1.5 + log(0.5), accuracy: 1e-12)
        XCTAssertEqual(left.logHaloMass, 13.05, accuracy: 1e-12)
        XCTAssertEqual(right.logHaloMass, 12.75, accuracy: 1e-12)
        // Continuous at the support's last grid points, from either side.
        for (alpha, value) in [(1.1, -2.0), (1.3, -1.5)] {
            let below = try XCTUnwrap(c.interpolate(0, alpha: alpha - 1e-9)).logP, above = try XCTUnwrap(c.interpolate(0, alpha: alpha + 1e-9)).logP
            XCTAssertEqual(below, value, accuracy: 1e-6)
            XCTAssertEqual(above, value, accuracy: 1e-6)
        }
        for alpha in [1.03, 1.17, 1.37] {
            let at = try XCTUnwrap(c.interpolate(0, alpha: alpha))
            let h = 1e-7
            let plus = try XCTUnwrap(c.interpolate(0, alpha: alpha + h)), minus = try XCTUnwrap(c.interpolate(0, alpha: alpha - h))
            XCTAssertEqual(at.dLogP, (plus.logP - minus.logP) / (2 * h), accuracy: 1e-5 * max(1, abs(at.dLogP)), "α \(alpha)")
            XCTAssertEqual(at.dLogHaloMass, (plus.logHaloMass - minus.logHaloMass) / (2 * h), accuracy: 1e-5, "α \(alpha)")
        }
        XCTAssertNil(c.interpolate(0, alpha: 1.45))
        XCTAssertNil(c.interpolate(0, alpha: 0.95))
    }

    /// On a real mock lens in enclosed-mass coordinates: each slice's conditional integrates to 1 over the grid, and a
    /// slice at its draw's α returns the draw (log M_h from the root along the slice, interpolated: 1e-4 dex).
    func testSlicesOfARealLensPassThroughTheirDraws() throws {
        let lens = EnclosedMassCoordinatesTests.catalog.lenses[0]
        let posterior = try EnclosedMassCoordinatesTests.posterior(lens)
        let coordinates = EnclosedMassCoordinates(posterior)
        let t = lens.truth.parameters
        let truth = [t.logHaloMass, t.shear1, t.shear2, t.sourceX, t.sourceY, t.logSourceFlux, lens.truth.alphaSPS]
        let w0 = try XCTUnwrap(coordinates.sampling(truth))
        let draws = [w0, zip(w0, [0.002, 0.001, -0.001, 0.0005, 0.0005, 0.01, 0.02]).map(+),
                     zip(w0, [-0.002, -0.001, 0.002, -0.0005, 0.0002, -0.01, -0.03]).map(+)]
        let c = try AlphaConditional.compute(coordinates, draws: draws, kept: 3, alphaRange: posterior.alphaRange, step: 0.02) {
            try XCTUnwrap(coordinates.constrained($0))
        }
        for j in 0..<3 {
            let row = c.logConditional[j]
            var integral = 0.0
            for (k, l) in row.enumerated() { integral += (k == 0 || k == row.count - 1 ? 0.5 : 1) * (l.map { Double.exp($0) } ?? 0) * c.alphaStep }
            XCTAssertEqual(integral, 1, accuracy: 1e-9)
            let z = try XCTUnwrap(c.parameters(j, alpha: c.draws[j][6]), "draw \(j) has support at its own α")
            XCTAssertEqual(z[0], c.draws[j][0], accuracy: 1e-4)
            for k in 1..<7 { XCTAssertEqual(z[k], c.draws[j][k], accuracy: 1e-12) }
        }
    }
}
