import Foundation
import Plotting

/// The four pictures of one exposure in a scene report — data, model, residual (data − model)
/// and χ ((data − model)/σ) — side by side, north up as in DS9 (FITS row 0 at the bottom).
///
/// Data and model share one stretch computed from the data, so their brightness compares
/// directly: `.asinh` from zscale's low cut to the 99.5th percentile, or `.zscale` (IRAF's
/// linear display range). The residual is drawn on the diverging map over ±3 σ_pix (σ_pix the
/// median pixel uncertainty) and χ over ±5, both centred on zero (white): a perfect model gives
/// uniformly white residual and χ panels. Pixels without data (inverse error 0) are gray.
/// Catalog positions are circled on the data and model panels (truth positions, when given,
/// marked with crosses), never on the residual and χ panels, whose flatness is the check.
public enum SceneMosaic {
    public enum Stretching: String, Sendable, CaseIterable { case asinh, zscale }

    public struct Panels: Sendable {
        public var data, model, residual, chi: RGBRaster
        /// The four panels in one row, 6 pixels apart.
        public var mosaic: RGBRaster { RGBRaster.mosaic([data, model, residual, chi], columns: 4, gap: 6) }
    }

    /// Image coordinates (pixels, FITS order, first pixel's centre at (0, 0)).
    public typealias Position = (x: Double, y: Double)

    /// Pictures of one exposure. `data`, `model` and `inverseError` are `width × height`, FITS
    /// order; `scale` magnifies each pixel to `scale × scale` screen pixels.
    public static func panels(data: [Double], model: [Double], inverseError: [Double], width: Int, height: Int, scale: Int,
                              stretching: Stretching = .asinh, catalog: [Position] = [], truth: [Position] = []) -> Panels {
        let n = width * height
        precondition(data.count == n && model.count == n && inverseError.count == n, "images must be \(width)×\(height)")
        let valid = (0..<n).filter { inverseError[$0] > 0 && data[$0].isFinite }
        let shown = (0..<n).map { inverseError[$0] > 0 ? data[$0] : .nan }
        let values = valid.map { data[$0] }
        let (z1, z2) = Stretch.zscale(values)
        let stretch: Stretch
        switch stretching {
        case .zscale: stretch = Stretch(.linear, lo: z1, hi: z2)
        case .asinh: stretch = Stretch(.asinh(softening: 0.1), lo: z1, hi: max(percentile(values, 0.995), z2))
        }
        var dataPanel = RGBRaster(image: shown, width: width, height: height, stretch: stretch, colorMap: .gray, scale: scale)
        var modelPanel = RGBRaster(image: model, width: width, height: height, stretch: stretch, colorMap: .gray, scale: scale)
        let sigma = percentile(valid.map { 1 / inverseError[$0] }, 0.5)
        let residual = (0..<n).map { inverseError[$0] > 0 ? data[$0] - model[$0] : .nan }
        let chi = (0..<n).map { inverseError[$0] > 0 ? (data[$0] - model[$0]) * inverseError[$0] : .nan }
        let residualPanel = RGBRaster(image: residual, width: width, height: height, stretch: Stretch(.linear, lo: -3 * sigma, hi: 3 * sigma),
                                      colorMap: .diverging, scale: scale)
        let chiPanel = RGBRaster(image: chi, width: width, height: height, stretch: Stretch(.linear, lo: -5, hi: 5), colorMap: .diverging, scale: scale)
        let radius = max(4, 2.5 * Double(scale))
        for (positions, color, marker) in [(catalog, RGB(255, 60, 60), RGBRaster.Marker.circle), (truth, RGB(60, 200, 255), .cross)] {
            for p in positions where p.x > -1 && p.y > -1 && p.x < Double(width) && p.y < Double(height) {
                let r = dataPanel.position(imageX: p.x, imageY: p.y, imageHeight: height)
                dataPanel.mark(x: r.x, y: r.y, radius: radius, color: color, marker: marker)
                modelPanel.mark(x: r.x, y: r.y, radius: radius, color: color, marker: marker)
            }
        }
        return Panels(data: dataPanel, model: modelPanel, residual: residualPanel, chi: chiPanel)
    }

    /// Images averaged in `factor × factor` blocks (edges beyond a whole block dropped), so a
    /// large exposure is drawn at a readable size: data over the pixels with data, model over
    /// all, and the inverse error of the block mean (n / √Σσ²; 0 where no pixel has data).
    public static func binned(data: [Double], model: [Double], inverseError: [Double], width: Int, height: Int,
                              factor: Int) -> (data: [Double], model: [Double], inverseError: [Double], width: Int, height: Int) {
        let k = max(1, factor)
        let (bw, bh) = (max(1, width / k), max(1, height / k))
        var d = [Double](repeating: 0, count: bw * bh), m = d, variance = d, n = d
        for y in 0..<min(height, bh * k) {
            for x in 0..<min(width, bw * k) {
                let i = y * width + x, b = (y / k) * bw + x / k
                m[b] += model[i]
                if inverseError[i] > 0 { d[b] += data[i]; variance[b] += 1 / (inverseError[i] * inverseError[i]); n[b] += 1 }
            }
        }
        let area = Double(k * k)
        let ie = (0..<(bw * bh)).map { n[$0] > 0 ? n[$0] / variance[$0].squareRoot() : 0 }
        return ((0..<(bw * bh)).map { n[$0] > 0 ? d[$0] / n[$0] : .nan }, m.map { $0 / area }, ie, bw, bh)
    }

    /// The `p` quantile (0…1) of `values` by nearest rank; 0 for no values.
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s[min(s.count - 1, max(0, Int((p * Double(s.count - 1)).rounded())))]
    }
}
