import Foundation

/// A figure: one or more panels (axes with ticks, labels, data series and a legend) and an
/// optional colour bar, drawn as one SVG document.
///
/// Coordinates are data units; a log axis holds log10 of the data (non-positive values are
/// dropped from it). Axis ranges default to the data's range padded by 4%.
public struct Figure: Sendable {
    public var width: Double
    public var height: Double
    public var title: String?
    public var panels: [(panel: Panel, frame: Frame)] = []
    public var colorBar: (bar: ColorBar, frame: Frame)?

    public init(width: Double, height: Double, title: String? = nil) { self.width = width; self.height = height; self.title = title }

    /// One panel filling the figure (leaving room for a colour bar when given).
    public static func single(_ panel: Panel, width: Double = 520, height: Double = 340, title: String? = nil, colorBar: ColorBar? = nil) -> Figure {
        var f = Figure(width: width, height: height, title: title)
        let top = title == nil ? 14.0 : 30.0
        let right = colorBar == nil ? 16.0 : 96.0
        f.panels = [(panel, Frame(x: 64, y: top, width: width - 64 - right, height: height - top - 46))]
        if let colorBar { f.colorBar = (colorBar, Frame(x: width - right + 14, y: top, width: 16, height: height - top - 46)) }
        return f
    }

    public var svg: String {
        var doc = SVGDocument(width: width, height: height)
        if let title { doc.text(title, width / 2, 18, size: 13, anchor: .middle, bold: true) }
        for (i, (p, frame)) in panels.enumerated() { p.draw(in: &doc, frame: frame, id: i) }
        if let (bar, frame) = colorBar { bar.draw(in: &doc, frame: frame) }
        return doc.text
    }
}

/// A rectangle in SVG pixels (y down).
public struct Frame: Sendable, Equatable {
    public var x, y, width, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) { self.x = x; self.y = y; self.width = width; self.height = height }
}

/// One axis: label, optional fixed range (data units, or log10 units on a log axis), log scale.
public struct Axis: Sendable {
    public var label: String
    public var range: ClosedRange<Double>?
    public var log: Bool
    public var tickLabels: Bool
    public init(_ label: String = "", range: ClosedRange<Double>? = nil, log: Bool = false, tickLabels: Bool = true) {
        self.label = label; self.range = range; self.log = log; self.tickLabels = tickLabels
    }
}

/// What a panel draws.
public enum Series: Sendable {
    case line(x: [Double], y: [Double], label: String?, color: String, dashed: Bool)
    case scatter(x: [Double], y: [Double], label: String?, color: String, radius: Double)
    case errorBars(x: [Double], y: [Double], yError: [Double], label: String?, color: String)
    /// A histogram: `edges.count == counts.count + 1`, drawn as a step outline (filled lightly).
    case histogram(edges: [Double], counts: [Double], label: String?, color: String)
    case hLine(y: Double, label: String?, color: String)
    case vLine(x: Double, label: String?, color: String)
    /// Rectangles of colour (a 2-D histogram): cell (i, j) spans xEdges[i]…xEdges[i+1] × yEdges[j]…yEdges[j+1].
    case cells(xEdges: [Double], yEdges: [Double], values: [[Double]], colorMap: ColorMap)
    /// A picture (e.g. a PNG data URI) covering `x` × `y` in data units.
    case image(href: String, x: ClosedRange<Double>, y: ClosedRange<Double>)

    var label: String? {
        switch self {
        case .line(_, _, let l, _, _), .scatter(_, _, let l, _, _), .errorBars(_, _, _, let l, _), .histogram(_, _, let l, _),
             .hLine(_, let l, _), .vLine(_, let l, _): return l
        case .cells, .image: return nil
        }
    }

    var color: String {
        switch self {
        case .line(_, _, _, let c, _), .scatter(_, _, _, let c, _), .errorBars(_, _, _, _, let c), .histogram(_, _, _, let c),
             .hLine(_, _, let c), .vLine(_, _, let c): return c
        case .cells, .image: return "#000"
        }
    }

    /// The data extents (x values, y values) that autoscaling should include.
    var extents: (x: [Double], y: [Double]) {
        switch self {
        case .line(let x, let y, _, _, _), .scatter(let x, let y, _, _, _): return (x, y)
        case .errorBars(let x, let y, let e, _, _): return (x, zip(y, e).flatMap { [$0 - $1, $0 + $1] })
        case .histogram(let edges, let counts, _, _): return (edges, counts + [0])
        case .hLine(let y, _, _): return ([], [y])
        case .vLine(let x, _, _): return ([x], [])
        case .cells(let xe, let ye, _, _): return (xe, ye)
        case .image(_, let x, let y): return ([x.lowerBound, x.upperBound], [y.lowerBound, y.upperBound])
        }
    }
}

/// One set of axes and what is drawn in them.
public struct Panel: Sendable {
    public var x: Axis
    public var y: Axis
    public var series: [Series]
    public var legend: Bool
    public var title: String?

    public init(x: Axis = Axis(), y: Axis = Axis(), series: [Series] = [], legend: Bool = true, title: String? = nil) {
        self.x = x; self.y = y; self.series = series; self.legend = legend; self.title = title
    }

    /// The axis ranges drawn (log10 units on log axes).
    public func ranges() -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        func resolve(_ axis: Axis, _ values: [Double], tight: Bool) -> ClosedRange<Double> {
            if let r = axis.range { return r }
            let v = (axis.log ? values.filter { $0 > 0 }.map(log10) : values).filter(\.isFinite)
            guard let lo = v.min(), let hi = v.max() else { return 0...1 }
            if hi <= lo { let d = lo == 0 ? 1 : abs(lo) * 0.1; return (lo - d)...(hi + d) }
            let pad = tight ? 0 : 0.04 * (hi - lo)
            return (lo - pad)...(hi + pad)
        }
        let tight = series.contains { if case .image = $0 { return true }; if case .cells = $0 { return true }; return false }
        return (resolve(x, series.flatMap(\.extents.x), tight: tight), resolve(y, series.flatMap(\.extents.y), tight: tight))
    }

    func draw(in doc: inout SVGDocument, frame f: Frame, id: Int) {
        let (xr, yr) = ranges()
        let xs = { (v: Double) -> Double in
            let u = x.log ? (v > 0 ? log10(v) : -.infinity) : v
            return f.x + (u - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * f.width
        }
        let ys = { (v: Double) -> Double in
            let u = y.log ? (v > 0 ? log10(v) : -.infinity) : v
            return f.y + f.height - (u - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * f.height
        }
        func clampX(_ v: Double) -> Double { min(max(v, f.x), f.x + f.width) }
        func clampY(_ v: Double) -> Double { min(max(v, f.y), f.y + f.height) }
        doc.raw("<clipPath id=\"clip\(id)\"><rect x=\"\(SVGDocument.n(f.x))\" y=\"\(SVGDocument.n(f.y))\" width=\"\(SVGDocument.n(f.width))\" height=\"\(SVGDocument.n(f.height))\"/></clipPath>")
        doc.raw("<g clip-path=\"url(#clip\(id))\">")
        for s in series {
            switch s {
            case .line(let x, let y, _, let c, let dashed):
                doc.polyline(zip(x, y).map { (xs($0), ys($1)) }, stroke: c, dash: dashed ? "5,3" : nil)
            case .scatter(let x, let y, _, let c, let r):
                for (a, b) in zip(x, y) where xs(a).isFinite && ys(b).isFinite { doc.circle(xs(a), ys(b), r, fill: c) }
            case .errorBars(let x, let y, let e, _, let c):
                for ((a, b), err) in zip(zip(x, y), e) where xs(a).isFinite && ys(b).isFinite {
                    if err.isFinite { doc.line(xs(a), clampY(ys(b - err)), xs(a), clampY(ys(b + err)), stroke: c) }
                    doc.circle(xs(a), ys(b), 2.5, fill: c)
                }
            case .histogram(let edges, let counts, _, let c):
                var pts: [(Double, Double)] = []
                for (i, n) in counts.enumerated() {
                    let base = y.log ? f.y + f.height : clampY(ys(0))
                    let top = n > 0 || !y.log ? clampY(ys(n)) : base
                    doc.rect(xs(edges[i]), min(top, base), xs(edges[i + 1]) - xs(edges[i]), abs(base - top), fill: c, opacity: 0.25)
                    pts.append((xs(edges[i]), top)); pts.append((xs(edges[i + 1]), top))
                }
                doc.polyline(pts, stroke: c, width: 1.2)
            case .hLine(let v, _, let c):
                doc.line(f.x, ys(v), f.x + f.width, ys(v), stroke: c, width: 1.2, dash: "5,3")
            case .vLine(let v, _, let c):
                doc.line(xs(v), f.y, xs(v), f.y + f.height, stroke: c, width: 1.2, dash: "5,3")
            case .cells(let xe, let ye, let values, let map):
                let peak = values.flatMap { $0 }.filter(\.isFinite).max() ?? 0
                for i in 0..<(xe.count - 1) {
                    for j in 0..<(ye.count - 1) where values[i][j] > 0 {
                        let t = peak > 0 ? values[i][j] / peak : 0
                        doc.rect(xs(xe[i]), ys(ye[j + 1]), xs(xe[i + 1]) - xs(xe[i]), ys(ye[j]) - ys(ye[j + 1]), fill: map.color(t).hex)
                    }
                }
            case .image(let href, let xr, let yr):
                doc.image(href: href, xs(xr.lowerBound), ys(yr.upperBound), xs(xr.upperBound) - xs(xr.lowerBound), ys(yr.lowerBound) - ys(yr.upperBound))
            }
        }
        doc.raw("</g>")
        doc.rect(f.x, f.y, f.width, f.height, stroke: "#000")

        // Ticks and labels.
        let xTicks = x.log ? Ticks.logDecades(xr.lowerBound, xr.upperBound) : Ticks.linear(xr.lowerBound, xr.upperBound, target: max(4, Int(f.width / 70)))
        let xStep = xTicks.count > 1 ? xTicks[1] - xTicks[0] : 1
        for t in xTicks {
            let px = f.x + (t - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * f.width
            doc.line(px, f.y + f.height, px, f.y + f.height - 4)
            if x.tickLabels { doc.text(x.log ? Ticks.logLabel(t) : Ticks.label(t, step: xStep), px, f.y + f.height + 14, size: 10, anchor: .middle) }
        }
        let yTicks = y.log ? Ticks.logDecades(yr.lowerBound, yr.upperBound) : Ticks.linear(yr.lowerBound, yr.upperBound, target: max(4, Int(f.height / 45)))
        let yStep = yTicks.count > 1 ? yTicks[1] - yTicks[0] : 1
        for t in yTicks {
            let py = f.y + f.height - (t - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * f.height
            doc.line(f.x, py, f.x + 4, py)
            if y.tickLabels { doc.text(y.log ? Ticks.logLabel(t) : Ticks.label(t, step: yStep), f.x - 4, py + 3.5, size: 10, anchor: .end) }
        }
        if !x.label.isEmpty { doc.text(x.label, f.x + f.width / 2, f.y + f.height + (x.tickLabels ? 30 : 14), size: 11, anchor: .middle) }
        if !y.label.isEmpty {
            let lx = f.x - (y.tickLabels ? 44 : 8)
            doc.text(y.label, lx, f.y + f.height / 2, size: 11, anchor: .middle, rotate: -90)
        }
        if let title { doc.text(title, f.x + f.width / 2, f.y - 4, size: 11, anchor: .middle) }

        // Legend: one row per labelled series, top right.
        let labelled = series.filter { $0.label != nil }
        if legend, !labelled.isEmpty {
            let w = 14 + 7 * Double(labelled.map { $0.label!.count }.max()!) + 18
            let h = 16 * Double(labelled.count) + 6
            let lx = f.x + f.width - w - 6, ly = f.y + 6
            doc.rect(lx, ly, w, h, fill: "#fff", stroke: "#999", opacity: 0.85)
            for (i, s) in labelled.enumerated() {
                let ry = ly + 14 + 16 * Double(i)
                doc.line(lx + 5, ry - 4, lx + 21, ry - 4, stroke: s.color, width: 2.5)
                doc.text(s.label!, lx + 26, ry, size: 10)
            }
        }
    }
}

/// A vertical colour bar: the colour map drawn bottom (low) to top (high) with ticks of `range`
/// (log10 units when `log`) and a label.
public struct ColorBar: Sendable {
    public var colorMap: ColorMap
    public var range: ClosedRange<Double>
    public var log: Bool
    public var label: String
    public init(colorMap: ColorMap, range: ClosedRange<Double>, log: Bool = false, label: String = "") {
        self.colorMap = colorMap; self.range = range; self.log = log; self.label = label
    }

    func draw(in doc: inout SVGDocument, frame f: Frame) {
        let id = "cbar-\(colorMap.name)"
        doc.verticalGradient(id: id, colors: (0...16).map { colorMap.color(Double($0) / 16).hex })
        doc.rect(f.x, f.y, f.width, f.height, fill: "url(#\(id))", stroke: "#000")
        let lo = range.lowerBound, hi = range.upperBound
        let ticks = log ? Ticks.logDecades(lo, hi) : Ticks.linear(lo, hi)
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        for t in ticks where hi > lo {
            let py = f.y + f.height - (t - lo) / (hi - lo) * f.height
            doc.line(f.x + f.width, py, f.x + f.width + 4, py)
            doc.text(log ? Ticks.logLabel(t) : Ticks.label(t, step: step), f.x + f.width + 6, py + 3.5, size: 10)
        }
        if !label.isEmpty { doc.text(label, f.x + f.width + 58, f.y + f.height / 2, size: 11, anchor: .middle, rotate: -90) }
    }
}
