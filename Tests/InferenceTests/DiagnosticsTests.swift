import Inference
import TesseraSupport
import XCTest

final class DiagnosticsTests: XCTestCase {
    func iidChains(_ m: Int, _ n: Int, seed: UInt64, offsets: [Double]? = nil) -> [[Double]] {
        (0..<m).map { c in
            var rng = RandomSource(seed: seed, stream: UInt64(c))
            return (0..<n).map { _ in rng.normal() + (offsets?[c] ?? 0) }
        }
    }

    func testESSOfIndependentNormalsIsAboutN() {
        let chains = iidChains(4, 500, seed: 1)
        let ess = Diagnostics.effectiveSampleSize(chains)
        XCTAssertEqual(ess / 2000, 1, accuracy: 0.2)
        let single = Diagnostics.effectiveSampleSize([chains[0]])
        XCTAssertEqual(single / 500, 1, accuracy: 0.25)
        XCTAssertEqual(Diagnostics.splitEffectiveSampleSize(chains) / 2000, 1, accuracy: 0.2)
    }

    /// Antithetic draws (each the negative of the last) make Geyer's sum negative; the ESS must
    /// stay positive, at Stan's cap mn·log₁₀(mn), not turn negative.
    func testESSOfAntitheticDrawsIsPositiveAndCapped() {
        let chain: [Double] = (0..<200).map { (i: Int) -> Double in
            let sign: Double = i % 2 == 0 ? 1 : -1
            return sign * (1 + 0.001 * Double(i % 7))
        }
        let ess = Diagnostics.splitEffectiveSampleSize([chain])
        XCTAssertGreaterThan(ess, 0)
        XCTAssertEqual(ess, 200 * log10(200.0), accuracy: 1e-9)
    }

    func testESSOfAR1MatchesTheory() {
        // x_t = φ x_{t−1} + ε: τ = (1 + φ)/(1 − φ) = 19 for φ = 0.9.
        let phi = 0.9
        let chains: [[Double]] = (0..<4).map { c in
            var rng = RandomSource(seed: 8, stream: UInt64(c))
            var x = rng.normal() / (1 - phi * phi).squareRoot()
            return (0..<2000).map { _ in x = phi * x + rng.normal(); return x }
        }
        let ess = Diagnostics.splitEffectiveSampleSize(chains)
        XCTAssertEqual(ess / (8000.0 / 19), 1, accuracy: 0.35)
    }

    func testRHatNearOneForConvergedAndLargeForStuckChains() {
        let good = Diagnostics.splitRHat(iidChains(4, 500, seed: 2))
        XCTAssertEqual(good, 1, accuracy: 0.02)
        let stuck = Diagnostics.splitRHat(iidChains(4, 500, seed: 2, offsets: [0, 0, 5, -5]))
        XCTAssertGreaterThan(stuck, 2)
        // A single drifting chain is caught by splitting.
        let drift = [(0..<1000).map { Double($0) / 100 + sin(Double($0)) }]
        XCTAssertGreaterThan(Diagnostics.splitRHat(drift), 1.5)
    }

    func testEnergyBFMIKnownValues() {
        // Independent energies: E-BFMI ≈ 2; a slowly drifting energy: ≪ 1.
        var rng = RandomSource(seed: 4)
        let iid = (0..<4000).map { _ in rng.normal() }
        XCTAssertEqual(Diagnostics.energyBFMI(iid), 2, accuracy: 0.15)
        let slow = (0..<1000).map { sin(Double($0) / 100) }
        XCTAssertLessThan(Diagnostics.energyBFMI(slow), 0.01)
    }

    func testDegenerateInputsGiveNaN() {
        XCTAssertTrue(Diagnostics.effectiveSampleSize([[1, 1, 1, 1, 1, 1]]).isNaN)
        XCTAssertTrue(Diagnostics.splitRHat([[1, 2]]).isNaN)
        XCTAssertTrue(Diagnostics.effectiveSampleSize([[1, .nan, 2, 3, 4, 5]]).isNaN)
    }

    func testNUTSChainsConvergeByRHatAndESS() throws {
        let d = try GaussianDensity(mean: [2, -1], covariance: .diagonal([1, 0.25]))
        let runs = try (0..<3).map { try NUTS().sample(d, initial: [Double($0) * 3 - 3, 4], warmup: 200, draws: 300, seed: UInt64(100 + $0)) }
        for i in 0..<2 {
            let chains = runs.map { $0.chain(i) }
            XCTAssertLessThan(Diagnostics.splitRHat(chains), 1.05)
            XCTAssertGreaterThan(Diagnostics.splitEffectiveSampleSize(chains), 300)
        }
        for r in runs { XCTAssertGreaterThan(Diagnostics.energyBFMI(r.stats.map(\.energy)), 0.5) }
        // Monte-Carlo standard error of the mean is consistent with the pooled ESS.
        let mcse = Diagnostics.monteCarloStandardError(runs.map { $0.chain(0) })
        XCTAssertGreaterThan(mcse, 0.2 / 1000.0.squareRoot())
        XCTAssertLessThan(mcse, 2 / 300.0.squareRoot())
        XCTAssertEqual(runs.flatMap { $0.chain(0) }.reduce(0, +) / 900, 2, accuracy: 5 * mcse)
    }
}
