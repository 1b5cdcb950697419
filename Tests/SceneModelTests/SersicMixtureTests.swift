import Foundation
import TesseraTestSupport
import XCTest
import TesseraSupport
@testable import SceneModel

/// The exact Sérsic functions, against reference values computed with mpmath (30 digits) and
/// scipy.special (gammainc / gammaincc), and against identities.
final class SersicProfileTests: XCTestCase {
    /// (n, b_n) with P(2n, b_n) = 1/2, from mpmath.findroot at 30 digits.
    static let bReference: [(Double, Double)] = [
        (0.3, 0.315702017016107847), (0.5, 0.693147180559945309), (0.8, 1.28179613739081252),
        (1, 1.67834699001666065), (1.5, 2.674060313723559), (2, 3.672060748850897),
        (4, 7.66924944250080390), (6, 11.6683631530447648), (10, 19.6676724233056673),
    ]
    /// (a, x, P(a, x), Q(a, x)) from scipy.special.gammainc / gammaincc.
    static let gammaReference: [(Double, Double, Double, Double)] = [
        (0.5, 0.1, 0.34527915398142317, 0.6547208460185768),
        (0.5, 2.0, 0.9544997361036415, 0.04550026389635857),
        (1.6, 1.2, 0.4698739390842684, 0.5301260609157317),
        (2, 3, 0.8008517265285442, 0.1991482734714558),
        (3.7, 12.5, 0.9989799221066363, 0.001020077893363654),
        (8, 5, 0.13337167407000744, 0.8666283259299925),
        (12, 11.67, 0.5001916176723974, 0.4998083823276026),
        (12, 30, 0.9999361229746008, 6.387702539927327e-05),
        (12.4, 2, 6.480402628027978e-07, 0.9999993519597372),
        (25, 40, 0.9955173434344268, 0.00448265656557319),
        (0.2, 0.01, 0.43286756092652506, 0.5671324390734749),
    ]

    func testBMatchesReference() throws {
        for (n, b) in Self.bReference {
            let got = try SersicProfile(n: n).b
            XCTAssertLessThanOrEqual(abs(got - b), 4e-15 * b, "b_\(n) = \(got), expected \(b)")
        }
        // n = 1/2 is a Gaussian: P(1, b) = 1 − e^(−b) = 1/2 gives b = ln 2 exactly.
        XCTAssertLessThan(abs(try SersicProfile(n: 0.5).b - log(2.0)), 1e-15)
    }

    func testIncompleteGammaMatchesReference() {
        for (a, x, p, q) in Self.gammaReference {
            let gp = IncompleteGamma.regularizedLower(a: a, x: x)
            let gq = IncompleteGamma.regularizedUpper(a: a, x: x)
            XCTAssertLessThanOrEqual(abs(gp - p), 1e-14 * max(p, 1e-300) + 1e-16, "P(\(a), \(x)) = \(gp), expected \(p)")
            XCTAssertLessThanOrEqual(abs(gq - q), 1e-13 * q, "Q(\(a), \(x)) = \(gq), expected \(q)")
        }
        for x in [0.01, 0.5, 1.0, 3.0, 20.0] {
            XCTAssertLessThan(abs(IncompleteGamma.regularizedLower(a: 1, x: x) + expm1(-x)), 1e-15)
        }
        XCTAssertEqual(IncompleteGamma.regularizedLower(a: 2, x: 0), 0)
        XCTAssertTrue(IncompleteGamma.regularizedLower(a: -1, x: 1).isNaN)
        XCTAssertTrue(IncompleteGamma.regularizedLower(a: 1, x: -1).isNaN)
    }

    func testProfileIsNormalisedAndConsistent() throws {
        for n in [0.7, 1.0, 2.5, 4.0, 6.2] {
            let p = try SersicProfile(n: n)
            XCTAssertLessThan(abs(p.enclosedFraction(radius: 1) - 0.5), 1e-14)
            // d L(<R) / dR = 2π R I(R): the surface brightness carries unit total flux.
            let rhalf = 0.7
            for r in [0.05, 0.3, 1.0, 2.0, 8.0] {
                let h = 1e-5 * r
                let dL = (p.enclosedFraction(radius: (r + h) / rhalf) - p.enclosedFraction(radius: (r - h) / rhalf)) / (2 * h)
                let ring = 2 * Double.pi * r * p.surfaceBrightness(radius: r, rhalf: rhalf)
                XCTAssertLessThanOrEqual(abs(dL - ring), 1e-7 * ring + 1e-12, "n=\(n) r=\(r): dL/dR \(dL) vs 2πrI \(ring)")
            }
        }
        assertThrows(SceneModelError.self) { try SersicProfile(n: 0) }
        assertThrows(SceneModelError.self) { try SersicProfile(n: .nan) }
    }
}

final class SersicMixtureTableTests: XCTestCase {
    static func nodesInside(_ m: SersicMixture) -> [Double] { m.nodes.filter { $0 >= 0.8 && $0 <= 6 } }

    /// The requirement on the committed table: enclosed flux within 1% of the exact
    /// profile at 0.1–5 r_half for n in [0.8, 6]. The n grid (step 0.0542) mostly falls between
    /// the nodes, and every midpoint between adjacent nodes is checked as well.
    func testBundledTableMeetsEnclosedFluxTolerance() throws {
        let m = try SersicMixture.bundled()
        XCTAssertTrue(m.sersicRange.lowerBound <= 0.8 && m.sersicRange.upperBound >= 6)
        let grid = try m.accuracy(sersicCount: 97, radiusCount: 60)
        XCTAssertLessThan(grid.maxRelativeError, 0.01, "max error \(grid.maxRelativeError) at n=\(grid.atSersic), R=\(grid.atRadius)")
        let radii = (0..<30).map { 0.1 * pow(50, Double($0) / 29) }
        var worst = 0.0
        for (lo, hi) in zip(m.nodes, m.nodes.dropFirst()) where hi > 0.8 && lo < 6 {
            let n = min(max((lo + hi) / 2, 0.8), 6)
            let p = try SersicProfile(n: n)
            for r in radii {
                let exact = p.enclosedFraction(radius: r)
                worst = max(worst, abs(m.enclosedFraction(radius: r, sersic: n) - exact) / exact)
            }
        }
        XCTAssertLessThan(worst, 0.01, "max error between nodes \(worst)")
        let recorded = try XCTUnwrap(m.provenance).accuracy
        XCTAssertTrue(recorded.maxRelativeError < 0.01 && recorded.sersicMin <= 0.8 && recorded.sersicMax >= 6)
        XCTAssertTrue(recorded.radiusMin <= 0.1 && recorded.radiusMax >= 5)
    }

    func testAmplitudesSumToOneAndAreNonNegativeAtNodes() throws {
        let m = try SersicMixture.bundled()
        for row in m.amplitudes {
            XCTAssertLessThan(abs(row.reduce(0, +) - 1), 1e-12)
            XCTAssertTrue(row.allSatisfy { $0 >= 0 })
        }
        for n in stride(from: 0.7, through: 6.2, by: 0.0731) {
            let (a, dn) = m.amplitudes(sersic: n)
            XCTAssertLessThan(abs(a.reduce(0, +) - 1), 1e-12)
            XCTAssertLessThan(abs(dn.reduce(0, +)), 1e-9)
            XCTAssertTrue(a.allSatisfy { $0 > -5e-4 }, "n=\(n): spline undershoot \(a.min()!)")
        }
    }

    func testAmplitudeDerivativesMatchFiniteDifferences() throws {
        let m = try SersicMixture.bundled()
        let h = 1e-5
        for n in [0.73, 0.86, 1.234, 2.05, 3.33, 4.71, 5.9] {
            let d = m.amplitudes(sersic: n).dn
            let up = m.amplitudes(sersic: n + h).values, down = m.amplitudes(sersic: n - h).values
            for k in 0..<m.componentCount {
                let fd = (up[k] - down[k]) / (2 * h)
                XCTAssertLessThan(abs(d[k] - fd), 1e-6 * max(1, abs(fd)), "n=\(n) k=\(k): \(d[k]) vs \(fd)")
            }
        }
    }

    func testFitProducesAccurateNonNegativeNormalisedAmplitudes() throws {
        let settings = SersicMixtureFitSettings(componentCount: 16, nodes: [1, 2.5, 4], fitRadiusCount: 80)
        let m = try SersicMixture.fit(settings: settings, accuracySersicCount: 3, accuracyRadiusCount: 10)
        XCTAssertTrue(m.radii.count == 16 && m.radii.first == 0.005 && m.radii.last == 30)
        for (i, n) in m.nodes.enumerated() {
            XCTAssertLessThan(abs(m.amplitudes[i].reduce(0, +) - 1), 1e-12)
            XCTAssertTrue(m.amplitudes[i].allSatisfy { $0 >= 0 })
            let p = try SersicProfile(n: n)
            for r in [0.1, 0.3, 1, 2, 5] {
                let exact = p.enclosedFraction(radius: r)
                XCTAssertLessThan(abs(m.enclosedFraction(radius: r, sersic: n) - exact), 0.01 * exact, "n=\(n) R=\(r)")
            }
        }
        let provenance = try XCTUnwrap(m.provenance)
        XCTAssertEqual(provenance.settings, settings)
        assertThrows(SceneModelError.self) {
            try SersicMixture.fit(settings: SersicMixtureFitSettings(componentCount: 1))
        }
    }

    func testTableRoundTripsThroughFile() throws {
        let m = try SersicMixture.bundled()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sersic-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try m.write(to: url)
        let back = try SersicMixture.load(contentsOf: url)
        // Bit-for-bit: numbers are written in shortest round-trip form.
        XCTAssertTrue(back.radii == m.radii && back.nodes == m.nodes)
        XCTAssertEqual(back.amplitudes, m.amplitudes)
        XCTAssertEqual(back.provenance, m.provenance)
    }
}

final class SersicMixtureFileErrorTests: XCTestCase {
    static let good = """
    {"format": "tessera-sersic-mixture", "format_version": 1, "radius_unit": "r_half",
     "radii": [0.5, 1.0], "nodes": [1, 2], "amplitudes": [[0.4, 0.6], [0.3, 0.7]]}
    """

    func errorText(_ json: String, name: String) -> String {
        do {
            _ = try SersicMixture.decode(Data(json.utf8), path: name)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testGoodTableParses() throws {
        let m = try SersicMixture.decode(Data(Self.good.utf8), path: "good.json")
        XCTAssertTrue(m.radii == [0.5, 1] && m.nodes == [1, 2] && m.provenance == nil)
    }

    func testMissingFileNamesThePath() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/table-xyz.json")
        assertThrows(FileError.self) { try SersicMixture.load(contentsOf: url) }
        do { _ = try SersicMixture.load(contentsOf: url) } catch { XCTAssertTrue("\(error)".contains("/nonexistent/dir/table-xyz.json")) }
    }

    func testMalformedContentsNameFileAndField() {
        let cases: [(String, String)] = [
            ("{ not json", "malformed JSON"),
            ("[1, 2]", "not a JSON object"),
            (Self.good.replacingOccurrences(of: "\"format_version\": 1", with: "\"format_version\": 2"), "'format_version'"),
            (Self.good.replacingOccurrences(of: "tessera-sersic-mixture", with: "other"), "'format'"),
            (Self.good.replacingOccurrences(of: "\"radii\": [0.5, 1.0]", with: "\"radii\": [0.5, 1.0, 2.0]"), "'amplitudes[0]'"),
            (Self.good.replacingOccurrences(of: "[[0.4, 0.6], [0.3, 0.7]]", with: "[[0.4, 0.6]]"), "'amplitudes'"),
            (Self.good.replacingOccurrences(of: "\"nodes\": [1, 2]", with: "\"nodes\": [2, 1]"), "'nodes'"),
            (Self.good.replacingOccurrences(of: "\"radii\": [0.5, 1.0]", with: "\"radii\": [0.5, \"x\"]"), "'radii[1]'"),
            (Self.good.replacingOccurrences(of: "\"radii\": [0.5, 1.0], ", with: ""), "'radii'"),
            (Self.good.replacingOccurrences(of: "\"radius_unit\": \"r_half\"", with: "\"radius_unit\": \"arcsec\""), "'radius_unit'"),
            (Self.good.replacingOccurrences(of: "]]}", with: "]], \"provenance\": {\"generator\": \"x\"}}"), "'provenance."),
        ]
        for (json, field) in cases {
            let text = errorText(json, name: "bad-table.json")
            XCTAssertTrue(text.hasPrefix("bad-table.json:") && text.contains(field), "\(field): got \(text)")
        }
    }
}
