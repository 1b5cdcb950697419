import Foundation
import HaloProfiles
@testable import LensInference
import TesseraSupport
import XCTest

/// The stage-2 density of `tessera infer`: the importance-reweighting estimate against brute-force integration on a
/// toy lens whose likelihood is a known correlated Gaussian in (log M_h, α), its analytic gradient against finite
/// differences, and the selection table's multilinear gradient.
final class ReweightedPopulationTests: XCTestCase {
    // Toy lens: L(m, α) a correlated Gaussian (the α–M_h degeneracy of a lens's Einstein radius), on interim boxes.
    let mBox = 12.0...14.0, aBox = 0.5...2.0
    let mean = (m: 13.0, a: 1.1), sd = (m: 0.06, a: 0.3), rho = 0.8
    let logMsps = 11.3

    func toyLogL(_ m: Double, _ a: Double) -> Double {
        let u = (m - mean.m) / sd.m, v = (a - mean.a) / sd.a
        return -0.5 * (u * u - 2 * rho * u * v + v * v) / (1 - rho * rho)
    }

    /// Exact draws from the interim posterior (∝ L on the boxes): the Gaussian, truncated to the boxes; each draw
    /// `repeats` times in a row (a chain whose autocorrelation makes `samples` draws count as samples / repeats).
    func toyLens(samples: Int, seed: UInt64 = 11, stream: UInt64 = 0, repeats: Int = 1) -> ReweightedPopulation.Lens {
        var rng = RandomSource(seed: seed, stream: stream)
        var ms: [Double] = [], as_: [Double] = []
        while ms.count < samples {
            let z1 = rng.normal(), z2 = rng.normal()
            let a = mean.a + sd.a * z1
            let m = mean.m + sd.m * (rho * z1 + (1 - rho * rho).squareRoot() * z2)
            guard mBox.contains(m) && aBox.contains(a) else { continue }
            for _ in 0..<repeats { ms.append(m); as_.append(a) }
        }
        let logInterim = -log(mBox.upperBound - mBox.lowerBound) - log(aBox.upperBound - aBox.lowerBound)
        return ReweightedPopulation.Lens(id: "toy", logMsps: logMsps, logHaloMass: ms, alpha: as_,
                                         logInterim: [Double](repeating: logInterim, count: ms.count))
    }

    /// ln [∫∫ L K N dm dα / ∫∫ L π_int dm dα] over the boxes, on a fine grid: the marginal likelihood of η over the
    /// interim evidence, which is what the estimator targets (the interim evidence does not depend on η).
    func bruteForce(_ eta: [Double], h: Double) -> Double {
        let n = 600
        var num = 0.0, den = 0.0
        let dm = (mBox.upperBound - mBox.lowerBound) / Double(n), da = (aBox.upperBound - aBox.lowerBound) / Double(n)
        for i in 0..<n {
            let m = mBox.lowerBound + (Double(i) + 0.5) * dm
            for j in 0..<n {
                let a = aBox.lowerBound + (Double(j) + 0.5) * da
                let l = exp(toyLogL(m, a))
                den += l
                let k = exp(-0.5 * pow((a - eta[0]) / h, 2)) / (h * (2 * Double.pi).squareRoot())
                let mu = eta[2] + eta[1] * (logMsps + log10(a) - 11.5)
                let g = exp(-0.5 * pow((m - mu) / eta[3], 2)) / (eta[3] * (2 * Double.pi).squareRoot())
                num += l * k * g
            }
        }
        let area = (mBox.upperBound - mBox.lowerBound) * (aBox.upperBound - aBox.lowerBound)
        return log(num / (den / area))
    }

    func testReweightingMatchesBruteForceIntegration() throws {
        let h = 0.05
        let pop = try ReweightedPopulation(lenses: [toyLens(samples: 20000)], selection: nil, alphaKernelWidth: h,
                                           base: PopulationHyperparameters())
        for eta in [[1.1, 1.5, 13.05, 0.15], [1.3, 1.2, 12.9, 0.1], [0.9, 2.0, 13.1, 0.3]] {
            let estimate = try pop.logDensityAndGradient(eta).value
            let truth = bruteForce(eta, h: h)
            // Importance error: ~1/√ESS relative; the ESS here is several hundred, so ±0.1 in ln is ≳ 2σ.
            XCTAssertEqual(estimate, truth, accuracy: 0.1, "η = \(eta)")
            let ess = pop.effectiveSampleSizes(eta: eta)[0]
            XCTAssertGreaterThan(ess, 100, "η = \(eta)")
        }
        // A known-wrong model (no division by the interim density) is far off: the test can fail.
        var wrong = toyLens(samples: 20000)
        wrong.logInterim = wrong.logInterim.map { _ in 0 }
        let wrongPop = try ReweightedPopulation(lenses: [wrong], selection: nil, alphaKernelWidth: h, base: PopulationHyperparameters())
        XCTAssertGreaterThan(abs(try wrongPop.logDensityAndGradient([1.1, 1.5, 13.05, 0.15]).value - bruteForce([1.1, 1.5, 13.05, 0.15], h: h)), 0.5)
    }

    func selectionTable() throws -> SelectionTable {
        let axes = [[0.8, 1.2, 1.6], [1.0, 2.0], [12.6, 13.0, 13.4], [0.05, 0.3]]
        var values: [Double] = []
        for a in axes[0] { for b in axes[1] { for c in axes[2] { for d in axes[3] {
            values.append(-2 + 0.3 * a - 0.1 * b * b + 0.2 * (c - 13) + 0.5 * d * a)
        } } } }
        return try SelectionTable(version: "test", axes: axes, logA: values)
    }

    func testGradientMatchesFiniteDifferences() throws {
        let pop = try ReweightedPopulation(lenses: [toyLens(samples: 500), toyLens(samples: 300)], selection: selectionTable(),
                                           alphaKernelWidth: 0.07, base: PopulationHyperparameters())
        // Inside one selection cell (the gradient jumps across faces).
        try assertGradientMatchesDifferences(pop, at: [1.05, 1.37, 12.93, 0.17], relative: 1e-5)
    }

    /// A selection file's smooth A(η) (`InterpolatedSelection`, what `selection_file` loads) enters as −N ln A(η)
    /// with its analytic gradient, and sets the hyperprior box.
    func testInterpolatedSelectionEntersAsMinusNLogA() throws {
        // A(η) falling with α_sps and the scatter, sampled at 40 Halton-like nodes with 1000 draws each.
        let lower = [0.8, 1.0, 12.6, 0.05], upper = [1.6, 2.0, 13.4, 0.3]
        var nodes: [[Double]] = [], selected: [Int] = []
        for i in 0..<40 {
            let u = [0.5, 1.0 / 3, 0.2, 1.0 / 7].enumerated().map { k, b in (Double(i + 1) * b * [1, 1.618, 2.414, 3.303][k]).truncatingRemainder(dividingBy: 1) }
            let x = (0..<4).map { lower[$0] + u[$0] * (upper[$0] - lower[$0]) }
            nodes.append(x)
            selected.append(Int((1000 * 0.6 * exp(-0.4 * (x[0] - 0.8) - 1.5 * (x[3] - 0.05))).rounded()))
        }
        let selection = try InterpolatedSelection(version: "test-1", nodes: nodes, selected: selected, draws: 1000,
                                                  lower: lower, upper: upper, toleranceFactor: 1)
        let lenses = [toyLens(samples: 300), toyLens(samples: 200)]
        let with = try ReweightedPopulation(lenses: lenses, selection: selection, alphaKernelWidth: 0.07, base: PopulationHyperparameters())
        let without = try ReweightedPopulation(lenses: lenses, selection: nil, alphaKernelWidth: 0.07, base: PopulationHyperparameters())
        let eta = [1.12, 1.41, 12.97, 0.16]
        var p = PopulationHyperparameters()
        p.inferred = eta
        let lnA = try selection.logA(p)
        let (v1, g1) = try with.logDensityAndGradient(eta)
        let (v0, g0) = try without.logDensityAndGradient(eta)
        XCTAssertEqual(v1, v0 - 2 * lnA, accuracy: 1e-12)
        let dA = try selection.logAGradient(p)
        for k in 0..<4 {
            XCTAssertEqual(g1[k], g0[k] - 2 * dA[k], accuracy: 1e-9)
            var up = eta, dn = eta
            up[k] += 1e-6
            dn[k] -= 1e-6
            let fd = (try with.logDensityAndGradient(up).value - with.logDensityAndGradient(dn).value) / 2e-6
            XCTAssertEqual(g1[k], fd, accuracy: 1e-4 * max(1, abs(fd)), "component \(k)")
        }
        XCTAssertEqual(with.selection?.box.lower, lower)
        XCTAssertEqual(with.selection?.box.upper, upper)
        XCTAssertThrowsError(try with.logDensityAndGradient([1.7, 1.41, 12.97, 0.16]), "outside the file's box")
    }

    func testSelectionGradientIsTheInterpolantsDerivative() throws {
        let table = try selectionTable()
        var eta = PopulationHyperparameters()
        eta.inferred = [1.31, 1.62, 13.21, 0.12]
        let (value, g) = try table.logAWithGradient(eta)
        XCTAssertEqual(value, try table.logA(eta))
        for k in 0..<4 {
            var p = eta, m = eta
            p.inferred[k] += 1e-7
            m.inferred[k] -= 1e-7
            XCTAssertEqual(g[k], (try table.logA(p) - table.logA(m)) / 2e-7, accuracy: 1e-6, "component \(k)")
        }
        eta.inferred[0] = 2.0
        XCTAssertThrowsError(try table.logAWithGradient(eta))
    }

    /// `monteCarloVariances` against the sampling variance of ln L̂ itself: 400 toy lenses, each with its own 200
    /// independent draws from the exact interim posterior; the spread of ln L̂_i(η) over lenses (the same L for all)
    /// is the true Monte Carlo variance, and the batch-means estimates must average to it within 25%. With each
    /// draw repeated five times (a chain with autocorrelation, ESS a fifth of the count) the estimate must grow
    /// about fivefold, where Kish's ESS, blind to the repeats, stays put (it would fail this test).
    func testMonteCarloVarianceMatchesTheSpreadOfRepeatedEstimates() throws {
        let eta = [1.1, 1.5, 13.0, 0.15], h = 0.2
        func lenses(samples: Int, repeats: Int) -> [ReweightedPopulation.Lens] {
            (0..<400).map { k in toyLens(samples: samples * repeats, seed: 21, stream: UInt64(k), repeats: repeats) }
        }
        let independent = try ReweightedPopulation(lenses: lenses(samples: 200, repeats: 1), selection: nil, alphaKernelWidth: h,
                                                   base: PopulationHyperparameters())
        let values = try independent.lenses.indices.map { i in
            try ReweightedPopulation(lenses: [independent.lenses[i]], selection: nil, alphaKernelWidth: h,
                                     base: PopulationHyperparameters()).logDensityAndGradient(eta).value
        }
        let meanValue = values.reduce(0, +) / Double(values.count)
        let spread = values.reduce(0) { $0 + ($1 - meanValue) * ($1 - meanValue) } / Double(values.count - 1)
        let estimates = independent.monteCarloVariances(eta: eta)
        let meanEstimate = estimates.reduce(0, +) / Double(estimates.count)
        XCTAssertEqual(meanEstimate / spread, 1, accuracy: 0.25, "estimate \(meanEstimate), spread over lenses \(spread)")

        let repeated = try ReweightedPopulation(lenses: lenses(samples: 200, repeats: 5), selection: nil, alphaKernelWidth: h,
                                                base: PopulationHyperparameters())
        let repeatedEstimate = repeated.monteCarloVariances(eta: eta).reduce(0, +) / 400
        // 1000 draws that are 200 independent ones: the same variance as the 200, not a fifth of it.
        XCTAssertEqual(repeatedEstimate / spread, 1, accuracy: 0.35, "repeated draws: \(repeatedEstimate) against \(spread)")
        let kishIndependent = independent.effectiveSampleSizes(eta: eta).reduce(0, +) / 400
        let kishRepeated = repeated.effectiveSampleSizes(eta: eta).reduce(0, +) / 400
        XCTAssertGreaterThan(kishRepeated / kishIndependent, 4, "Kish's ESS counts the repeats (why batch means are used)")
    }

    /// A lens whose images no model in the interim boxes reproduces is a clear error naming it (cheap: every trial
    /// fails before the image-plane polish).
    /// A double whose inner saddle lies by the radial critical curve (mock seed 3017 of `infer_recovery.sh`, its
    /// lens-6, values copied): at the source-plane starts that image's (κ, γ) lies outside the test table (κ ≤ 0.95,
    /// γ ≤ 1.0; the truth has 0.90, 0.89) at every trial α, so before `LensStart` fell back to the start that
    /// ignores microlensing this lens stopped the run ("no parameters in the interim boxes reproduce its 2
    /// images"). Its truth is a valid lens, so a start must be found, with a finite posterior.
    func testStartIsFoundForADoubleByTheRadialCaustic() throws {
        try assertStartIsFound(MockLens(
            id: "lens-6", lensRedshift: 0.4814053238885905, sourceRedshift: 2.4899126998651275,
            logMsps: 11.36975673414159, logEffectiveRadius: 0.7460534320977552,
            images: [ObservedImage(x: 1.0746449432833418, y: 1.1413068854561648, positionError: 0.005,
                                   flux: 264.09210214057833, fluxError: 13.429474389819868),
                     ObservedImage(x: -0.34933932407642226, y: -0.4305909010454611, positionError: 0.005,
                                   flux: 136.23947935528832, fluxError: 6.593825541055418)],
            truth: MockLens.Truth(parameters: LensParameters(logHaloMass: 12.921867564353244, shear1: 0.010015580895901155,
                                                             shear2: 0.06864377960066245, sourceX: 0.3339278772649507,
                                                             sourceY: 0.38996407910970843, logSourceFlux: 2.052220065451591),
                                  alphaSPS: 1.2, images: [])))
    }

    /// Mock seed 5017's lens-14 (values copied): a wide double (2.9″) on which every trial α's source-plane
    /// start sat on the part of the doubles' degenerate family (log M_h against shear) where the model makes four
    /// images, so the run stopped with "no parameters … reproduce its 2 images". The profile over log M_h finds one.
    func testStartIsFoundForAWideDoubleWhoseSourcePlaneStartIsAQuad() throws {
        try assertStartIsFound(MockLens(
            id: "lens-14", lensRedshift: 0.47265184872758464, sourceRedshift: 1.9934915988237996,
            logMsps: 11.48036941278114, logEffectiveRadius: 0.7161984735073487,
            images: [ObservedImage(x: 0.660764971278166, y: 2.0163130014399235, positionError: 0.005,
                                   flux: 259.56812884930844, fluxError: 12.016639502010788),
                     ObservedImage(x: -0.2982376235892633, y: -0.7797353826879273, positionError: 0.005,
                                   flux: 255.17800105569913, fluxError: 12.468709336072148)],
            truth: MockLens.Truth(parameters: LensParameters(logHaloMass: 13.470901995979649, shear1: -0.06945831419545838,
                                                             shear2: 0.04260138327545043, sourceX: 0.19853037995263886,
                                                             sourceY: 0.5524592010632723, logSourceFlux: 2.036420202538195),
                                  alphaSPS: 1.2, images: [])))
    }

    /// Mock seed 9017's lens-23 (new flux noise; values copied): a double whose posterior is rugged. The old search
    /// (source-plane starts at five trial α, each polished in all seven coordinates) ended at α ≈ 0.98, log M_h 13.54
    /// with ln p −9.1, in a pocket: a chain from there stayed within α 0.91–1.08 (best draw −9.5, slices 0.86–1.13),
    /// while a chain from the optimum L-BFGS reaches from the truth (−0.7 at α 1.18) spans α 0.81–1.26, best draw
    /// −0.8, slices 0.70–1.36 (`tessera-bench lens-modes`). The truncated slices cut the population posterior off at
    /// α 1.17. The start must be no lower than the truth's own optimum (less a unit for L-BFGS's tolerance); the
    /// profile scan along α finds −0.02 at α 0.85, log M_h 13.54, inside the main mode.
    func testStartIsInTheMainModeNotAPocket() throws {
        let lens = MockLens(
            id: "lens-23", lensRedshift: 0.47620930283831786, sourceRedshift: 2.0786808866597224,
            logMsps: 11.469042437992304, logEffectiveRadius: 0.6939664427343037,
            images: [ObservedImage(x: -1.2265360098513176, y: 1.1775825538953624, positionError: 0.005,
                                   flux: 236.1348583406331, fluxError: 16.79215117405874),
                     ObservedImage(x: 0.5980239306738188, y: -0.3896270824665585, positionError: 0.005,
                                   flux: 1917.778356578797, fluxError: 8.334996433875821)],
            truth: MockLens.Truth(parameters: LensParameters(logHaloMass: 12.914881795107659, shear1: -0.034349180871275066,
                                                             shear2: -0.051537529158475794, sourceX: -0.4416847088261097,
                                                             sourceY: 0.33875506484106127, logSourceFlux: 2.1716446981116575),
                                  alphaSPS: 1.2, images: []))
        let (posterior, atTruth) = try interimPosterior(lens)
        let (z, value) = try LensStart.find(posterior)
        let t = lens.truth.parameters
        let zTruth = [t.logHaloMass, t.shear1, t.shear2, t.sourceX, t.sourceY, t.logSourceFlux, lens.truth.alphaSPS]
        let fromTruth = try XCTUnwrap(LensStart.polish(posterior, from: zTruth, value: atTruth))
        XCTAssertGreaterThan(fromTruth.logDensity, atTruth + 3, "L-BFGS from the truth reaches the main mode's optimum")
        XCTAssertGreaterThan(value, fromTruth.logDensity - 1, "the start (α \(z[6]), log M_h \(z[0])) is in a pocket below the main mode")
        XCTAssertEqual(try posterior.logDensity(z), value, accuracy: 1e-9)
    }

    /// Recovery mock 17017's lens-11 (a quad): `LensStart.find` ends at α 0.72, log M_h 13.68 (ln p 5.8), where an
    /// image's (κ, γ) nears the table's edge; the stage-1 chain from there never moved (every one of 400 draws at
    /// α 0.724, 351 divergent) and the run stopped: no α_sps was reached by every lens's slices. A chain from the
    /// optimum L-BFGS reaches from the truth (α 1.03, ln p 4.8) spans α 0.76–1.49 (`tessera-bench lens-modes`).
    /// `find(avoiding:)`, which `InferStages.sampleLens` calls after a chain that never moved, must give a start
    /// outside the avoided α range, in the posterior's bulk (above the truth's density), at its true value.
    func testStartAvoidingAStuckChainsAlpha() throws {
        let lens = MockLens(
            id: "lens-11", lensRedshift: 0.4587905473250915, sourceRedshift: 2.206886159752531,
            logMsps: 11.433043728030869, logEffectiveRadius: 0.546841516631157,
            images: [ObservedImage(x: -1.3710310762296998, y: -0.12069922674733562, positionError: 0.005,
                                   flux: 450.53727913366066, fluxError: 21.990047114319346),
                     ObservedImage(x: 1.2357785378615098, y: -0.23101137014031564, positionError: 0.005,
                                   flux: 727.2801077895061, fluxError: 36.68992191656639),
                     ObservedImage(x: 0.36663303420748455, y: -1.0785246338485506, positionError: 0.005,
                                   flux: 360.2244074443885, fluxError: 28.458025380489932),
                     ObservedImage(x: 0.2867450999540284, y: 1.049130490847598, positionError: 0.005,
                                   flux: 1278.793205365027, fluxError: 19.239899670204803)],
            truth: MockLens.Truth(parameters: LensParameters(logHaloMass: 12.89561690431869, shear1: 0.10778788724639277,
                                                             shear2: -0.0013887219370026984, sourceX: -0.0696187817924375,
                                                             sourceY: -0.033699301778422834, logSourceFlux: 2.110395028608414),
                                  alphaSPS: 1.2, images: []))
        let (posterior, atTruth) = try interimPosterior(lens)
        let first = try LensStart.find(posterior)
        let avoid = (first.z[6] - 0.1)...(first.z[6] + 0.1)
        let (z, value) = try LensStart.find(posterior, avoiding: avoid)
        XCTAssertFalse(avoid.contains(z[6]), "the second start (α \(z[6])) lies in the avoided range \(avoid)")
        XCTAssertTrue(posterior.alphaRange.contains(z[6]))
        XCTAssertEqual(try posterior.logDensity(z), value, accuracy: 1e-9)
        XCTAssertGreaterThan(value, atTruth, "the second start (α \(z[6]), ln p \(value)) is not in the posterior's bulk")
    }

    /// The stage-1 posterior of `lens` under the interim boxes the recovery mocks use (log M_h 11.5–15, α 0.7–1.7,
    /// microlensing on, the test table), and its log-density at the truth.
    func interimPosterior(_ lens: MockLens) throws -> (LensInterimPosterior, Double) {
        let like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0)
        let posterior = try LensInterimPosterior(likelihood: like, survey: SurveySettings(), logHaloMassRange: 11.5...15,
                                                 alphaRange: 0.7...1.7, microlensing: true)
        let t = lens.truth.parameters
        let atTruth = try posterior.logDensity([t.logHaloMass, t.shear1, t.shear2, t.sourceX, t.sourceY, t.logSourceFlux, lens.truth.alphaSPS])
        return (posterior, atTruth)
    }

    /// `LensStart.find` on a mock lens (interim boxes log M_h 11.5–15, α 0.7–1.7, microlensing on) whose truth
    /// has a finite posterior: it returns a point whose value is the posterior's there, and a start rather than
    /// merely a finite point — within 5 in ln p of the truth's density or above it.
    func assertStartIsFound(_ lens: MockLens, file: StaticString = #filePath, line: UInt = #line) throws {
        let (posterior, atTruth) = try interimPosterior(lens)
        XCTAssertTrue(atTruth.isFinite, file: file, line: line)
        let (z, value) = try LensStart.find(posterior)
        XCTAssertTrue(value.isFinite, file: file, line: line)
        XCTAssertEqual(try posterior.logDensity(z), value, accuracy: 1e-9, file: file, line: line)
        XCTAssertGreaterThan(value, atTruth - 5, file: file, line: line)
    }

    func testLensWithNoSolutionIsAClearError() throws {
        // Three non-central images: this lens model gives 2 or 4 (plus the undetected central one), never 3.
        let images = [ObservedImage(x: 0.9, y: 0, positionError: 0.005, flux: 100, fluxError: 5),
                      ObservedImage(x: -0.8, y: 0.1, positionError: 0.005, flux: 100, fluxError: 5),
                      ObservedImage(x: 0.1, y: 0.85, positionError: 0.005, flux: 100, fluxError: 5)]
        let truth = MockLens.Truth(parameters: LensParameters(logHaloMass: 13, shear1: 0, shear2: 0, sourceX: 0, sourceY: 0,
                                                              logSourceFlux: 2), alphaSPS: 1.2, images: [])
        let lens = MockLens(id: "impossible", lensRedshift: 0.4, sourceRedshift: 2, logMsps: 11.4, logEffectiveRadius: 0.8,
                            images: images, truth: truth)
        let like = try LensLikelihood(lens: lens, cosmology: Fixtures.cosmology, microlensing: Fixtures.microlensing, sourceSize: 0)
        let posterior = try LensInterimPosterior(likelihood: like, survey: SurveySettings(), logHaloMassRange: 11.5...15,
                                                 alphaRange: 0.6...2.2, microlensing: true)
        XCTAssertThrowsError(try LensStart.find(posterior)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("impossible") && text.contains("reproduce its 3 images"), text)
        }
    }
}
