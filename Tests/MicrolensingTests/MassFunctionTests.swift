import Foundation
import TesseraSupport
import XCTest
@testable import Microlensing

final class MassFunctionTests: XCTestCase {
    /// ∫ₐᵇ f(m) dm by Simpson's rule in ln m (independent of the analytic code).
    private func integrate(_ a: Double, _ b: Double, _ f: (Double) -> Double) -> Double {
        let n = 20_000
        let la = log(a), lb = log(b), h = (lb - la) / Double(n)
        var s = 0.0
        for i in 0...n {
            let m = exp(la + Double(i) * h)
            let w: Double = (i == 0 || i == n) ? 1 : (i % 2 == 1 ? 4 : 2)
            s += w * f(m) * m
        }
        return s * h / 3
    }

    private func kroupa(_ m: Double) -> Double {
        // Kroupa (2001) eq. 2, continuous: ξ ∝ m^−0.3 (m<0.08), m^−1.3 (<0.5), m^−2.3.
        if m < 0.08 { return pow(m, -0.3) }
        if m < 0.5 { return 0.08 * pow(m, -1.3) }
        return 0.08 * 0.5 * pow(m, -2.3)
    }

    func testAnalyticMeansMatchNumericalIntegrals() {
        // Salpeter 0.1–100: ⟨m⟩ = [(b^0.65 − a^0.65)/0.65] / [(a^−1.35 − b^−1.35)/1.35].
        let sal = MassFunction.salpeter(minimum: 0.1, maximum: 100)
        let a = 0.1, b = 100.0
        let closed = ((pow(b, -0.35) - pow(a, -0.35)) / -0.35) / ((pow(a, -1.35) - pow(b, -1.35)) / 1.35)
        XCTAssertEqual(sal.meanMass, closed, accuracy: 1e-12 * closed)
        for (lo, hi) in [(0.01, 1.0), (0.05, 2.0), (0.1, 0.3), (0.6, 10.0)] {
            let k = MassFunction.kroupa(minimum: lo, maximum: hi)
            let n0 = integrate(lo, hi) { self.kroupa($0) }
            let n1 = integrate(lo, hi) { $0 * self.kroupa($0) }
            let n2 = integrate(lo, hi) { $0 * $0 * self.kroupa($0) }
            XCTAssertEqual(k.meanMass, n1 / n0, accuracy: 1e-7 * n1 / n0, "Kroupa \(lo)–\(hi)")
            XCTAssertEqual(k.meanSquaredMass, n2 / n0, accuracy: 1e-7 * n2 / n0, "Kroupa \(lo)–\(hi)")
        }
        let pl = MassFunction.powerLaw(slope: 1, minimum: 0.2, maximum: 5)   // log-flat
        XCTAssertEqual(pl.meanMass, (5 - 0.2) / log(25.0), accuracy: 1e-12)
        XCTAssertEqual(MassFunction.unit.meanMass, 1)
        XCTAssertEqual(MassFunction.fixed(mass: 0.3).meanSquaredMass, 0.09, accuracy: 1e-15)
    }

    func testSampleMeansMatchAnalyticValues() {
        let n = 200_000
        for mf in [MassFunction.salpeter(minimum: 0.1, maximum: 10), .kroupa(minimum: 0.01, maximum: 1),
                   .powerLaw(slope: 1, minimum: 0.2, maximum: 5), .powerLaw(slope: 0, minimum: 0.5, maximum: 1.5)] {
            var rng = RandomSource(seed: 11)
            var s = 0.0
            let (lo, hi) = mf.bounds
            for _ in 0..<n {
                let m = mf.sample(using: &rng)
                XCTAssertTrue(m >= lo && m <= hi)
                s += m
            }
            let mean = s / Double(n)
            let se = ((mf.meanSquaredMass - mf.meanMass * mf.meanMass) / Double(n)).squareRoot()
            XCTAssertEqual(mean, mf.meanMass, accuracy: 5 * se, "\(mf)")
        }
    }
}
