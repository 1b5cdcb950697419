import Astrometry
import Foundation

/// Which pixels of one exposure a patch uses: every pixel whose centre lies within an active
/// source's region of interest (a circle of `roi` arcsec about the source, converted to pixels
/// with the exposure's mean pixel scale), and that has a positive inverse error.
///
/// Two steps, so the caller can read just the needed rectangle from its pixel store between them:
/// `init` finds the rectangle (inclusive pixel bounds, clipped to the exposure; nil if no circle
/// touches the exposure), then `select` picks the pixels from that rectangle's data, row by row.
public struct PatchPixels: Sendable {
    /// Source centres on the exposure (0-based pixels) and ROI radii in pixels, per source.
    public let centres: [(x: Double, y: Double)]
    public let radii: [Double]
    /// Inclusive pixel bounds of the rectangle to read.
    public let x0: Int, y0: Int, x1: Int, y1: Int

    /// - Parameters:
    ///   - positions: the active sources' (RA, Dec) in degrees.
    ///   - roi: region-of-interest radius per source, arcsec.
    ///   - width, height: the exposure's size in pixels.
    public init?(wcs: WCS, width: Int, height: Int, positions: [(ra: Double, dec: Double)], roi: [Double]) {
        let scale = wcs.pixelScale
        let centres = positions.map { wcs.skyToPixel(ra: $0.ra, dec: $0.dec) }
        let radii = roi.map { $0 / scale }
        var x0 = Int.max, x1 = Int.min, y0 = Int.max, y1 = Int.min
        for (c, r) in zip(centres, radii) {
            x0 = min(x0, Int((c.x - r).rounded(.down))); x1 = max(x1, Int((c.x + r).rounded(.up)))
            y0 = min(y0, Int((c.y - r).rounded(.down))); y1 = max(y1, Int((c.y + r).rounded(.up)))
        }
        x0 = max(x0, 0); y0 = max(y0, 0); x1 = min(x1, width - 1); y1 = min(y1, height - 1)
        guard x1 >= x0, y1 >= y0 else { return nil }
        self.centres = centres; self.radii = radii
        self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1
    }

    /// Size of the rectangle, pixels.
    public var width: Int { x1 - x0 + 1 }
    public var height: Int { y1 - y0 + 1 }

    /// The used pixels of the rectangle, given its `data` (counts) and `inverseError` (1/σ, 0 for
    /// a dropped pixel), both row-major by y, `width` × `height`. Pixel centres are in the
    /// exposure's 0-based frame; the order is row by row, as `PatchExposure` expects.
    public func select(data: [Float], inverseError: [Float]) -> (x: [Double], y: [Double], data: [Double], inverseError: [Double]) {
        precondition(data.count == width * height && inverseError.count == width * height, "PatchPixels: rectangle size")
        var xs: [Double] = [], ys: [Double] = [], ds: [Double] = [], ws: [Double] = []
        for y in y0...y1 {
            for x in x0...x1 {
                let i = (y - y0) * width + (x - x0)
                guard inverseError[i] > 0 else { continue }
                let inside = zip(centres, radii).contains { c, r in
                    let dx = Double(x) - c.x, dy = Double(y) - c.y
                    return dx * dx + dy * dy <= r * r
                }
                if inside { xs.append(Double(x)); ys.append(Double(y)); ds.append(Double(data[i])); ws.append(Double(inverseError[i])) }
            }
        }
        return (xs, ys, ds, ws)
    }
}

/// Model counts of whole exposures.
public enum ExposureRenderer {
    /// Model counts of `sources` on every pixel of a `width` × `height` exposure (row-major by
    /// y), each source linearised through the exposure's WCS at its own position (`WCS.local`),
    /// in the tangent plane about the WCS reference point: what `mock-scene` renders and
    /// `postprocess` subtracts. `band` indexes `bands` (a source's flux vector).
    public static func render(_ sources: [Source], bands: [String], band: Int, wcs: WCS, width: Int, height: Int,
                              psf: PSFMixture, calibration: Double, sersic: SersicMixture) throws -> [Double] {
        let plane = TangentPlane(ra0: wcs.crval1, dec0: wcs.crval2)
        let n = width * height
        let exposure = PatchExposure(name: "render", band: band, x: (0..<n).map { Double($0 % width) }, y: (0..<n).map { Double($0 / width) },
                                     data: [Double](repeating: 0, count: n), inverseError: [Double](repeating: 1, count: n),
                                     psf: psf, calibration: calibration,
                                     astrometry: sources.map { wcs.local(ra: $0.ra, dec: $0.dec, plane: plane) })
        var kernel = try SceneKernel(patch: Patch(bands: bands, plane: plane, exposures: [exposure]), sersic: sersic,
                                     isPoint: sources.map(\.isPoint))
        // No noise is known here (unit inverse errors): cut only at double-precision rounding.
        kernel.footprintTolerance = 0
        return kernel.modelImages(kernel.parameters(of: sources.map { PatchSource($0, plane: plane) }))[0]
    }
}
