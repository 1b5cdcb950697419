import Foundation

/// A minimal SVG document builder: shapes and text appended in drawing order, attribute values
/// and text XML-escaped, numbers printed with two decimals (sub-pixel precision at screen scale).
public struct SVGDocument: Sendable {
    public var width: Double
    public var height: Double
    public private(set) var body: [String] = []
    private var defs: [String] = []

    public init(width: Double, height: Double) { self.width = width; self.height = height }

    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func n(_ v: Double) -> String { v.isFinite ? String(format: "%.2f", v) : "0" }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#000", width: Double = 1, dash: String? = nil) {
        body.append("<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String = "none", stroke: String? = nil, opacity: Double? = nil) {
        body.append("<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(max(w, 0)))\" height=\"\(Self.n(max(h, 0)))\" fill=\"\(fill)\"\(stroke.map { " stroke=\"\($0)\"" } ?? "")\(opacity.map { " fill-opacity=\"\(Self.n($0))\"" } ?? "")/>")
    }

    public mutating func circle(_ cx: Double, _ cy: Double, _ r: Double, fill: String, stroke: String? = nil) {
        body.append("<circle cx=\"\(Self.n(cx))\" cy=\"\(Self.n(cy))\" r=\"\(Self.n(r))\" fill=\"\(fill)\"\(stroke.map { " stroke=\"\($0)\"" } ?? "")/>")
    }

    /// An open polyline; non-finite points break it into separate pieces.
    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.2, dash: String? = nil) {
        var pieces: [[(Double, Double)]] = [[]]
        for p in points { if p.0.isFinite && p.1.isFinite { pieces[pieces.count - 1].append(p) } else if !pieces.last!.isEmpty { pieces.append([]) } }
        for piece in pieces where piece.count >= 2 {
            let text = piece.map { "\(Self.n($0.0)),\(Self.n($0.1))" }.joined(separator: " ")
            body.append("<polyline points=\"\(text)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>")
        }
    }

    public enum Anchor: String, Sendable { case start, middle, end }

    public mutating func text(_ s: String, _ x: Double, _ y: Double, size: Double = 11, anchor: Anchor = .start, rotate: Double? = nil, bold: Bool = false) {
        let transform = rotate.map { " transform=\"rotate(\(Self.n($0)) \(Self.n(x)) \(Self.n(y)))\"" } ?? ""
        body.append("<text x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" text-anchor=\"\(anchor.rawValue)\"\(bold ? " font-weight=\"bold\"" : "")\(transform)>\(Self.escape(s))</text>")
    }

    /// An embedded picture (`href` is usually a `data:image/png;base64,…` URI), stretched over the box.
    public mutating func image(href: String, _ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        body.append("<image x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(w))\" height=\"\(Self.n(h))\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"\(Self.escape(href))\"/>")
    }

    /// A vertical gradient (bottom = first colour) usable as `fill="url(#id)"`.
    public mutating func verticalGradient(id: String, colors: [String]) {
        let stops = colors.enumerated().map { i, c in
            "<stop offset=\"\(Self.n(Double(i) / Double(max(colors.count - 1, 1))))\" stop-color=\"\(c)\"/>"
        }.joined()
        defs.append("<linearGradient id=\"\(Self.escape(id))\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\(stops)</linearGradient>")
    }

    public mutating func raw(_ element: String) { body.append(element) }

    /// The whole document.
    public var text: String {
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" viewBox=\"0 0 \(Self.n(width)) \(Self.n(height))\" font-family=\"Helvetica, Arial, sans-serif\">"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
        if !defs.isEmpty { s += "<defs>" + defs.joined() + "</defs>" }
        s += body.joined(separator: "\n")
        s += "</svg>\n"
        return s
    }
}
