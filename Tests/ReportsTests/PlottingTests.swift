import Foundation
#if canImport(FoundationXML)
import FoundationXML  // XMLParser on Linux
#endif
import Plotting
import XCTest

/// Tick choice, stretches, colour maps, rasters and SVG well-formedness of the plotting module.
final class PlottingTests: XCTestCase {
    func testNiceTicks() {
        XCTAssertEqual(Ticks.linear(0, 10, target: 6), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(Ticks.linear(0.13, 0.87, target: 5), [0.2, 0.4, 0.6, 0.8].map { $0 }, accuracy: 1e-12)
        XCTAssertEqual(Ticks.linear(-3.2, 4.9, target: 5), [-2, 0, 2, 4])
        XCTAssertEqual(Ticks.linear(97, 103, target: 4), [98, 100, 102])  // Heckbert alone: [100]
        XCTAssertEqual(Ticks.linear(17, 12345), [2000, 4000, 6000, 8000, 10000, 12000])
        // Every step is 1, 2 or 5 × 10^k, ticks are multiples of it and lie inside the range.
        for (lo, hi) in [(0.0013, 0.0091), (-250.0, 1e4), (3.0, 3.5), (-1.0, 1.0), (17.0, 12345.0)] {
            let t = Ticks.linear(lo, hi)
            XCTAssertGreaterThanOrEqual(t.count, 3, "\(lo)…\(hi): \(t)")
            XCTAssertLessThanOrEqual(t.count, 11, "\(lo)…\(hi): \(t)")
            let step = t[1] - t[0]
            let mantissa = step / pow(10, floor(log10(step)))
            XCTAssertTrue([1, 2, 5, 10].contains { abs(mantissa - $0) < 1e-9 }, "step \(step)")
            for v in t { XCTAssertTrue(v >= lo - 1e-12 && v <= hi + 1e-12); XCTAssertEqual((v / step).rounded(), v / step, accuracy: 1e-6) }
        }
        XCTAssertEqual(Ticks.logDecades(-1.3, 2.2), [-1, 0, 1, 2])
        XCTAssertEqual(Ticks.logDecades(0, 12), [0, 5, 10])
        // Under two decades: 1, 2, 5 × 10^k.
        XCTAssertEqual(Ticks.logDecades(log10(60), log10(400)).map { (pow(10, $0) * 1e6).rounded() / 1e6 }, [100, 200])
        XCTAssertEqual(Ticks.logDecades(log10(15), log10(400)).map { (pow(10, $0) * 1e6).rounded() / 1e6 }, [20, 50, 100, 200])
        XCTAssertEqual(Ticks.label(0.30000000000000004, step: 0.1), "0.3")
        XCTAssertEqual(Ticks.label(1500, step: 500), "1500")
        XCTAssertEqual(Ticks.logLabel(-1), "0.1")
        XCTAssertEqual(Ticks.logLabel(2), "100")
        XCTAssertEqual(Ticks.logLabel(6), "1e6")
    }

    func testStretches() {
        let lin = Stretch(.linear, lo: 10, hi: 20)
        XCTAssertEqual(lin.normalized(15), 0.5)
        XCTAssertEqual(lin.normalized(5), 0)
        XCTAssertEqual(lin.normalized(25), 1)
        // asinh: 0 → 0, 1 → 1, monotone, and brighter than linear in the faint part (a = 0.1).
        let a = Stretch(.asinh(softening: 0.1), lo: 0, hi: 1)
        XCTAssertEqual(a.normalized(0), 0)
        XCTAssertEqual(a.normalized(1), 1, accuracy: 1e-12)
        XCTAssertEqual(a.normalized(0.1), asinh(1) / asinh(10), accuracy: 1e-12)
        XCTAssertGreaterThan(a.normalized(0.05), 3 * lin.normalized(10.5))  // faint values lifted over linear (0.05)
        let log = Stretch(.log, lo: 0.1, hi: 100)
        XCTAssertEqual(log.normalized(1), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(log.normalized(-1), 0)
        // A flat image: lo = hi maps everything to the middle.
        XCTAssertEqual(Stretch(.asinh(softening: 0.1), lo: 3, hi: 3).normalized(3), 0.5)
    }

    func testZScaleIgnoresBrightOutliers() {
        // Gaussian noise σ = 1 around 100 plus a few very bright "stars".
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = (0..<4000).map { _ in
            let u1 = Double.random(in: 1e-12..<1, using: &rng), u2 = Double.random(in: 0..<1, using: &rng)
            return 100 + (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        }
        for i in stride(from: 0, to: 4000, by: 97) { values[i] = 5000 }
        let (z1, z2) = Stretch.zscale(values)
        // IRAF's zscale on Gaussian noise gives roughly the median ± a few σ, far below the stars.
        XCTAssertGreaterThan(z1, 90); XCTAssertLessThan(z1, 99.5)
        XCTAssertGreaterThan(z2, 100.5); XCTAssertLessThan(z2, 110)
        let flat = Stretch.zscale([Double](repeating: 7, count: 100))
        XCTAssertEqual(flat.lo, 7); XCTAssertEqual(flat.hi, 7)
    }

    func testColorMapsAndRaster() {
        XCTAssertEqual(ColorMap.viridis.color(0), RGB(hex: "#440154"))
        XCTAssertEqual(ColorMap.viridis.color(1), RGB(hex: "#fde725"))
        XCTAssertEqual(ColorMap.diverging.color(0.5), RGB(hex: "#f7f7f7"))
        // FITS order: row 0 is the bottom of the picture.
        let image: [Double] = [0, 0, 0, 1, 1, 1]  // 3 × 2: bottom row 0, top row 1
        let r = RGBRaster(image: image, width: 3, height: 2, stretch: Stretch(.linear, lo: 0, hi: 1), colorMap: .gray, scale: 2)
        XCTAssertEqual(r.width, 6); XCTAssertEqual(r.height, 4)
        XCTAssertEqual(r[0, 0], RGB(255, 255, 255))
        XCTAssertEqual(r[5, 3], RGB(0, 0, 0))
        let p = r.position(imageX: 0, imageY: 0, imageHeight: 2)
        XCTAssertEqual(p.x, 1); XCTAssertEqual(p.y, 3)
        let flat = RGBRaster(image: [Double](repeating: 0, count: 100), width: 10, height: 10, stretch: Stretch(.linear, lo: 0, hi: 0), colorMap: .diverging)
        XCTAssertTrue(flat.isUniform)
        XCTAssertFalse(r.isUniform)
        let m = RGBRaster.mosaic([r, flat], columns: 2, gap: 3)
        // Cells are as large as the largest panel (10 × 10).
        XCTAssertEqual(m.width, 10 + 3 + 10); XCTAssertEqual(m.height, 10)
        XCTAssertEqual(m[13 + 4, 4], ColorMap.diverging.color(0.5))
        XCTAssertEqual(m[5, 3], RGB(0, 0, 0))
        XCTAssertEqual(m[7, 3], RGB(255, 255, 255))  // background beside the 6-wide panel
    }

    /// Every figure kind parses as XML, and text is escaped.
    func testFiguresAreWellFormedSVG() throws {
        var rng = SystemRandomNumberGenerator()
        let a = (0..<300).map { _ in Double.random(in: -1..<1, using: &rng) }
        let b = a.map { $0 * 2 + Double.random(in: -0.3..<0.3, using: &rng) }
        let line = Figure.single(Panel(x: Axis("x <units> & more"), y: Axis("y", log: true), series: [
            .line(x: [1, 2, 3], y: [1, 10, 100], label: "a \"quoted\" line", color: Palette.color(0), dashed: false),
            .scatter(x: [1, 2], y: [3, 4], label: "points", color: Palette.color(1), radius: 2),
            .errorBars(x: [1, 2], y: [5, 6], yError: [1, .nan], label: "errors", color: Palette.color(2)),
            .hLine(y: 10, label: nil, color: "#000"),
        ]), title: "Title < & >", colorBar: ColorBar(colorMap: .viridis, range: -1...2, log: true, label: "μ"))
        let figures = [line, Plots.histogramFigure(a, xLabel: "a", markers: [(0, "truth")]),
                       Plots.trace([a, b], names: ["a", "b"], truths: [0, .nan]), Plots.corner([a, b, a], names: ["a", "b", "c"], truths: [0, 0, 0])]
        for f in figures {
            let svg = f.svg
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        }
        XCTAssertTrue(line.svg.contains("x &lt;units&gt; &amp; more"))
        // A broken document is caught by the same check (so the test can fail).
        XCTAssertFalse(XMLParser(data: Data("<svg><text>a < b</text></svg>".utf8)).parse())
        // A truth outside the draws widens that parameter's axes to show it.
        let wide = Plots.corner([a, b], names: ["a", "b"], truths: [5, .nan])
        XCTAssertEqual(wide.panels[0].panel.x.range?.upperBound, 5)
        XCTAssertEqual(wide.panels[1].panel.x.range?.upperBound, 5)
        XCTAssertLessThan(wide.panels[1].panel.y.range!.upperBound, 3)  // b has no truth: its draws only
        // The corner plot of 3 parameters has 6 panels.
        XCTAssertEqual(Plots.corner([a, b, a], names: ["a", "b", "c"]).panels.count, 6)
    }

    func testHistogram() {
        let h = Plots.histogram([0, 0.5, 1, 1.5, 2, .nan], bins: 2, range: 0...2)
        XCTAssertEqual(h.edges, [0, 1, 2])
        XCTAssertEqual(h.counts, [2, 3])
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(a) vs \(b)", file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
