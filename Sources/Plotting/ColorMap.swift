import Foundation

/// A colour map: values in [0, 1] to 8-bit RGB by linear interpolation between anchor colours.
///
/// `viridis` (perceptually uniform, colour-blind safe; anchors every 0.1 from matplotlib) for
/// images and maps, `gray` for data, and `diverging` (blue–white–red, white at 0.5) for
/// residuals and χ, where the sign matters.
public struct ColorMap: Sendable, Equatable {
    public var name: String
    /// Equally spaced anchor colours, first at 0 and last at 1.
    public var anchors: [RGB]

    public init(name: String, anchors: [RGB]) {
        precondition(anchors.count >= 2, "a colour map needs two anchors")
        self.name = name
        self.anchors = anchors
    }

    /// The colour at `t` (clamped to [0, 1]; NaN gives the first anchor).
    public func color(_ t: Double) -> RGB {
        let u = t.isNaN ? 0 : min(max(t, 0), 1) * Double(anchors.count - 1)
        let i = min(Int(u), anchors.count - 2)
        let f = u - Double(i)
        let a = anchors[i], b = anchors[i + 1]
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) * (1 - f) + Double(y) * f).rounded()) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    public static let gray = ColorMap(name: "gray", anchors: [RGB(0, 0, 0), RGB(255, 255, 255)])
    public static let viridis = ColorMap(name: "viridis", anchors: [
        "#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725",
    ].map { RGB(hex: $0)! })
    public static let diverging = ColorMap(name: "diverging", anchors: [
        "#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b",
    ].map { RGB(hex: $0)! })
}

/// An 8-bit sRGB colour.
public struct RGB: Sendable, Equatable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    /// From `#rrggbb`.
    public init?(hex: String) {
        let s = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        guard s.count == 6, let v = UInt32(s, radix: 16) else { return nil }
        self.init(UInt8(v >> 16), UInt8((v >> 8) & 0xff), UInt8(v & 0xff))
    }

    /// `#rrggbb`, for SVG.
    public var hex: String { String(format: "#%02x%02x%02x", r, g, b) }
}

/// The colours of successive series in a plot (matplotlib's "tab10" cycle).
public enum Palette {
    public static let cycle = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    public static func color(_ i: Int) -> String { cycle[((i % cycle.count) + cycle.count) % cycle.count] }
}
