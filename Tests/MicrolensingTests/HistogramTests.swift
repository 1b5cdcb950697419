import XCTest
@testable import Microlensing

final class HistogramTests: XCTestCase {
    func testCountsPDFAndOverflow() throws {
        let values: [Float] = [0.5, 1, 2, 3, 10, 99, 1000, 0, -1]
        let h = try MagnificationHistogram(values: values, range: -1...2, bins: 3)
        XCTAssertEqual(h.counts, [1, 3, 2])   // [−1,0): 0.5; [0,1): 1, 2, 3; [1,2): 10, 99
        XCTAssertEqual(h.underflow, 2)        // 0 and −1
        XCTAssertEqual(h.overflow, 1)         // 1000 = 10³ ≥ upper edge
        XCTAssertEqual(h.total, values.count)
        XCTAssertEqual(h.binWidth, 1)
        XCTAssertEqual(h.binCenters, [-0.5, 0.5, 1.5])
        let integral = zip(h.pdf, [Double](repeating: h.binWidth, count: 3)).map(*).reduce(0, +)
        XCTAssertEqual(integral, 6.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(h.cumulative.last!, 8.0 / 9.0, accuracy: 1e-12)
    }

    func testRelativeToTheory() throws {
        let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 1)   // μ_th = 10, no stars
        let geo = try MapGeometry(sizeRE: 1, pixels: 4)
        let map = MagnificationMap(geometry: geo, pixels: [Float](repeating: 10, count: 16), model: model, starCount: 0,
                                   seed: nil, raysShot: 0, raysPerPixelUnlensed: 1)
        let abs = try MagnificationHistogram(map: map, range: 0...2, bins: 4)
        XCTAssertEqual(abs.counts, [0, 0, 16, 0])          // log10 10 = 1
        let rel = try MagnificationHistogram(map: map, range: -1...1, bins: 4, variable: .log10RelativeMagnification)
        XCTAssertEqual(rel.counts, [0, 0, 16, 0])          // log10(μ/μ_th) = 0
    }

    /// Maps of the same model from two seeds have the same magnification distribution within
    /// noise, while a different smooth fraction is distinguishable: Kolmogorov–Smirnov distance
    /// of the log10 μ histograms against the 1% critical value 1.63·√(2/n_eff), with n_eff the
    /// number of independent patches, (size/2θ_E)² (neighbouring pixels are correlated over the
    /// caustic network's scale and the map means themselves scatter by a few per cent).
    func testDistributionsAgreeAcrossSeeds() throws {
        func hist(_ s: Double, _ seed: UInt64) throws -> MagnificationHistogram {
            let m = try makeMagnificationMap(model: MacroModel(kappa: 0.3, gamma: 0.2, smoothFraction: s),
                                             settings: MapSettings(sizeRE: 40, pixels: 40, rayDensity: .perSourcePixel(16),
                                                                   seed: seed))
            return try MagnificationHistogram(map: m, range: -0.5...2, bins: 500)
        }
        func ks(_ a: MagnificationHistogram, _ b: MagnificationHistogram) -> Double {
            zip(a.cumulative, b.cumulative).map { abs($0 - $1) }.max()!
        }
        let nEff = (40.0 / 2) * (40.0 / 2)
        let critical = 1.63 * (2 / nEff).squareRoot()
        let ref = try hist(0.5, 1)
        for seed in 2...3 as ClosedRange<UInt64> {
            XCTAssertLessThan(ks(ref, try hist(0.5, seed)), critical, "seed \(seed)")
        }
        XCTAssertGreaterThan(ks(ref, try hist(0, 2)), critical)
    }
}
