import Foundation

/// An 8-bit RGB picture, row-major from the TOP row (screen and PNG order), built from an image
/// through a stretch and a colour map; panels tile into mosaics and catalog positions are
/// marked on top.
///
/// Images come in FITS order (row 0 at the bottom, pixel (x, y) at index y·width + x, the first
/// pixel's centre at (0, 0)); `init(image:…)` flips them so north-up images look as in DS9.
public struct RGBRaster: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width × height × 3` bytes.
    public var pixels: [UInt8]
    /// Pixels per image pixel (nearest-neighbour magnification applied by `init(image:)`).
    public var scale: Int = 1

    public init(width: Int, height: Int, fill: RGB = RGB(255, 255, 255)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { pixels[3 * i] = fill.r; pixels[3 * i + 1] = fill.g; pixels[3 * i + 2] = fill.b }
    }

    /// `image` (`width × height`, FITS order) through `stretch` and `colorMap`, each image pixel
    /// drawn as `scale × scale` raster pixels. NaN pixels (no data) are drawn in `missing`.
    public init(image: [Double], width: Int, height: Int, stretch: Stretch, colorMap: ColorMap, scale: Int = 1,
                missing: RGB = RGB(128, 128, 128)) {
        precondition(image.count == width * height, "image has \(image.count) pixels, expected \(width)×\(height)")
        let k = max(scale, 1)
        self.init(width: width * k, height: height * k)
        self.scale = k
        for y in 0..<height {
            let row = height - 1 - y  // FITS row 0 is the bottom row
            for x in 0..<width {
                let v = image[y * width + x]
                let c = v.isNaN ? missing : colorMap.color(stretch.normalized(v))
                for dy in 0..<k {
                    var p = ((row * k + dy) * self.width + x * k) * 3
                    for _ in 0..<k { pixels[p] = c.r; pixels[p + 1] = c.g; pixels[p + 2] = c.b; p += 3 }
                }
            }
        }
    }

    public subscript(x: Int, y: Int) -> RGB {
        get { let p = (y * width + x) * 3; return RGB(pixels[p], pixels[p + 1], pixels[p + 2]) }
        set { let p = (y * width + x) * 3; pixels[p] = newValue.r; pixels[p + 1] = newValue.g; pixels[p + 2] = newValue.b }
    }

    /// The raster position (top-left origin, raster pixels) of the centre of image pixel (x, y)
    /// in FITS order, for an image `imageHeight` pixels tall drawn at `scale`.
    public func position(imageX x: Double, imageY y: Double, imageHeight: Int) -> (x: Double, y: Double) {
        let k = Double(scale)
        return ((x + 0.5) * k, (Double(imageHeight) - 0.5 - y) * k)
    }

    public enum Marker: Sendable { case circle, cross }

    /// Draws a one-pixel marker of `radius` raster pixels centred at (`x`, `y`) (raster coordinates).
    public mutating func mark(x: Double, y: Double, radius: Double, color: RGB, marker: Marker = .circle) {
        func put(_ px: Int, _ py: Int) { if px >= 0, py >= 0, px < width, py < height { self[px, py] = color } }
        switch marker {
        case .circle:
            let steps = max(16, Int(2 * Double.pi * radius))
            for s in 0..<steps {
                let a = 2 * Double.pi * Double(s) / Double(steps)
                put(Int((x + radius * cos(a)).rounded(.down)), Int((y + radius * sin(a)).rounded(.down)))
            }
        case .cross:
            let r = Int(radius.rounded())
            for d in -r...r { put(Int(x) + d, Int(y)); put(Int(x), Int(y) + d) }
        }
    }

    /// Tiles `panels` left to right, top to bottom, `columns` per row, `gap` pixels apart on a
    /// `background`; each cell is as large as the largest panel.
    public static func mosaic(_ panels: [RGBRaster], columns: Int, gap: Int = 4, background: RGB = RGB(255, 255, 255)) -> RGBRaster {
        guard !panels.isEmpty else { return RGBRaster(width: 1, height: 1, fill: background) }
        let cols = max(1, min(columns, panels.count))
        let rows = (panels.count + cols - 1) / cols
        let cw = panels.map(\.width).max()!, ch = panels.map(\.height).max()!
        var out = RGBRaster(width: cols * cw + (cols - 1) * gap, height: rows * ch + (rows - 1) * gap, fill: background)
        for (i, p) in panels.enumerated() {
            let x0 = (i % cols) * (cw + gap), y0 = (i / cols) * (ch + gap)
            for y in 0..<p.height {
                let src = y * p.width * 3, dst = ((y0 + y) * out.width + x0) * 3
                out.pixels.replaceSubrange(dst..<(dst + p.width * 3), with: p.pixels[src..<(src + p.width * 3)])
            }
        }
        return out
    }

    /// Whether every pixel has the same colour.
    public var isUniform: Bool {
        guard pixels.count >= 3 else { return true }
        let c = self[0, 0]
        for i in 0..<(width * height) where pixels[3 * i] != c.r || pixels[3 * i + 1] != c.g || pixels[3 * i + 2] != c.b { return false }
        return true
    }
}
