import Foundation
import XCTest
import Microlensing

/// The table interpolator on tables built in memory (the file loader is tested in
/// RunnersTests).
final class TableInterpolatorTests: XCTestCase {
    /// A synthetic PDF that is linear in κ, γ, s and source size, so both the cubic and the
    /// linear interpolants must reproduce it exactly between grid points.
    static func value(_ k: Double, _ g: Double, _ s: Double, _ z: Double, bin: Int) -> Double {
        1 + 0.5 * k + 0.25 * g + 0.125 * s + 0.1 * z + 0.01 * Double(bin)
    }

    func makeTable(kappa: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5], gamma: [Double] = [0.0, 0.1, 0.2, 0.3],
                   s: [Double] = [0.0, 0.3, 0.6, 0.9], sizes: [Double] = [0, 0.5], bins: Int = 10,
                   missing: Set<Int> = [], margin: Double = 0.0) -> MagnificationTableInterpolator {
        var pdf: [Double] = []
        var present: [Bool] = []
        var cell = 0
        for k in kappa { for g in gamma { for f in s {
            present.append(!missing.contains(cell))
            for z in sizes { for b in 0..<bins { pdf.append(Self.value(k, g, f, z, bin: b)) } }
            cell += 1
        } } }
        let edges = (0...bins).map { -2 + 4 * Double($0) / Double(bins) }
        return MagnificationTableInterpolator(kappaAxis: kappa, gammaAxis: gamma, sAxis: s, sourceSizes: sizes,
                                              logMuEdges: edges, pdf: pdf, present: present, criticalMargin: margin)
    }

    func testReproducesLinearFunctionsOffGrid() throws {
        let table = makeTable()
        for (k, g, s, z) in [(0.23, 0.17, 0.41, 0.2), (0.1, 0.0, 0.0, 0.0), (0.5, 0.3, 0.9, 0.5), (0.37, 0.05, 0.75, 0.35)] {
            let p = try table.point(kappa: k, gamma: g, s: s, sourceSize: z)
            let pdf = table.pdf(at: p)
            for b in 0..<10 { XCTAssertEqual(pdf[b], Self.value(k, g, s, z, bin: b), accuracy: 1e-12, "(\(k),\(g),\(s),\(z)) bin \(b)") }
            // density(mu:) picks the bin of log10(μ/μ_th)
            let mu = p.theoryMagnification * pow(10, -2 + 0.4 * 3.5)
            XCTAssertEqual(table.density(mu: mu, at: p), Self.value(k, g, s, z, bin: 3), accuracy: 1e-12)
            XCTAssertEqual(table.density(mu: p.theoryMagnification * 1e3, at: p), 0)
        }
    }

    /// Cubic interpolation is smoother than linear: for a curved function it is closer.
    func testCubicBeatsLinearOnCurvedData() throws {
        let kappa = (0..<9).map { 0.05 * Double($0) }
        var pdf: [Double] = []
        for k in kappa { pdf.append(sin(8 * k)) }
        let table = MagnificationTableInterpolator(kappaAxis: kappa, gammaAxis: [0.1], sAxis: [0], sourceSizes: [0],
                                                   logMuEdges: [0, 1], pdf: pdf, present: Array(repeating: true, count: 9),
                                                   criticalMargin: 0)
        let k = 0.2 + 0.025
        let cubic = table.pdf(at: try table.point(kappa: k, gamma: 0.1, s: 0))[0]
        let linear = (sin(8 * 0.2) + sin(8 * 0.25)) / 2
        XCTAssertLessThan(abs(cubic - sin(8 * k)), abs(linear - sin(8 * k)) / 3)
    }

    func testClearErrorsOutsideGridNearCriticalAndMissingCells() throws {
        let table = makeTable(missing: [0], margin: 0.05)
        XCTAssertThrowsError(try table.point(kappa: 0.6, gamma: 0.1, s: 0)) { error in
            XCTAssertEqual(error as? TableQueryError, .outsideGrid(axis: "κ", value: 0.6, range: 0.1...0.5))
        }
        XCTAssertThrowsError(try table.point(kappa: 0.3, gamma: 0.1, s: 0.95)) { error in
            XCTAssertTrue("\(error)".contains("s = 0.95 is outside"), "\(error)")
        }
        XCTAssertThrowsError(try table.point(kappa: 0.5, gamma: 0.48, s: 0.1)) { error in  // this test grid only reaches γ = 0.3
            XCTAssertTrue(error is TableQueryError)
        }
        let nearCritical = makeTable(kappa: [0.5, 0.6, 0.7], gamma: [0.3, 0.4, 0.5], margin: 0.05)
        XCTAssertThrowsError(try nearCritical.point(kappa: 0.58, gamma: 0.4, s: 0.3)) { error in
            guard case .nearCriticalLine? = error as? TableQueryError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try table.point(kappa: 0.12, gamma: 0.05, s: 0.1)) { error in
            guard case .missingCell(kappa: 0.1, gamma: 0.0, s: 0.0, _)? = error as? TableQueryError else { return XCTFail("\(error)") }
        }
    }
}
