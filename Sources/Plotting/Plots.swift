import Foundation

/// Ready-made figures built from `Figure` and `Panel`: histograms, MCMC trace plots and corner
/// plots (1-D histograms on the diagonal, 2-D histograms below it).
public enum Plots {
    /// Counts of `values` (non-finite ones ignored) in `bins` equal bins over `range` (default:
    /// the values' range); the last bin includes its upper edge.
    public static func histogram(_ values: [Double], bins: Int, range: ClosedRange<Double>? = nil) -> (edges: [Double], counts: [Double]) {
        let v = values.filter(\.isFinite)
        let nb = max(bins, 1)
        var lo = range?.lowerBound ?? v.min() ?? 0, hi = range?.upperBound ?? v.max() ?? 1
        if hi <= lo { lo -= 0.5; hi += 0.5 }
        let w = (hi - lo) / Double(nb)
        var counts = [Double](repeating: 0, count: nb)
        for x in v where x >= lo && x <= hi { counts[min(Int((x - lo) / w), nb - 1)] += 1 }
        return ((0...nb).map { lo + Double($0) * w }, counts)
    }

    /// Counts of the pairs (`x`, `y`) in `bins × bins` cells over the given ranges; `[i][j]` is x bin i, y bin j.
    public static func histogram2D(_ x: [Double], _ y: [Double], bins: Int, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>) -> [[Double]] {
        var counts = [[Double]](repeating: [Double](repeating: 0, count: bins), count: bins)
        let wx = (xRange.upperBound - xRange.lowerBound) / Double(bins), wy = (yRange.upperBound - yRange.lowerBound) / Double(bins)
        guard wx > 0, wy > 0 else { return counts }
        for (a, b) in zip(x, y) where xRange.contains(a) && yRange.contains(b) {
            counts[min(Int((a - xRange.lowerBound) / wx), bins - 1)][min(Int((b - yRange.lowerBound) / wy), bins - 1)] += 1
        }
        return counts
    }

    /// A one-panel histogram figure of `values`, with optional reference lines (value, label).
    public static func histogramFigure(_ values: [Double], bins: Int = 20, xLabel: String, title: String? = nil,
                                       markers: [(Double, String)] = [], log: Bool = false) -> Figure {
        let v = log ? values.filter { $0 > 0 }.map(log10) : values
        let h = histogram(v, bins: bins)
        var series: [Series] = [.histogram(edges: h.edges, counts: h.counts, label: nil, color: Palette.color(0))]
        for (i, (m, label)) in markers.enumerated() { series.append(.vLine(x: log ? log10(m) : m, label: label, color: Palette.color(i + 3))) }
        return .single(Panel(x: Axis(log ? "log10 \(xLabel)" : xLabel), y: Axis("count"), series: series), width: 420, height: 280, title: title)
    }

    /// Draws of several parameters against draw number, one stacked panel per parameter.
    /// `chains[p]` is parameter p's draws; `truths[p]`, when finite, is drawn as a dashed line.
    public static func trace(_ chains: [[Double]], names: [String], truths: [Double]? = nil, title: String? = nil, width: Double = 520) -> Figure {
        let rowHeight = 64.0, top = title == nil ? 10.0 : 28.0
        var f = Figure(width: width, height: top + rowHeight * Double(chains.count) + 40, title: title)
        for (p, chain) in chains.enumerated() {
            var series: [Series] = [.line(x: chain.indices.map(Double.init), y: chain, label: nil, color: Palette.color(0), dashed: false)]
            if let t = truths?[p], t.isFinite { series.append(.hLine(y: t, label: nil, color: Palette.color(3))) }
            let last = p == chains.count - 1
            let panel = Panel(x: Axis(last ? "draw" : "", tickLabels: last), y: Axis(names[p]), series: series, legend: false)
            f.panels.append((panel, Frame(x: 92, y: top + rowHeight * Double(p), width: width - 104, height: rowHeight - 6)))
        }
        return f
    }

    /// A corner plot of `samples[p]` (one array of draws per parameter): 1-D histograms on the
    /// diagonal, 2-D histograms (darker = more draws) below, optional truths as lines (inside
    /// the axes: each range covers the draws and the truth).
    public static func corner(_ samples: [[Double]], names: [String], truths: [Double]? = nil, bins: Int = 20, cell: Double = 110, title: String? = nil) -> Figure {
        let n = samples.count
        let left = 64.0, top = title == nil ? 10.0 : 28.0, gap = 6.0
        var f = Figure(width: left + Double(n) * (cell + gap) + 10, height: top + Double(n) * (cell + gap) + 40, title: title)
        // Each axis spans the draws and the truth, so a truth far from the posterior stays visible.
        let ranges: [ClosedRange<Double>] = samples.enumerated().map { p, s in
            let v = (s + [truths?[p] ?? .nan]).filter(\.isFinite)
            guard let lo = v.min(), let hi = v.max(), hi > lo else { let c = v.first ?? 0; return (c - 0.5)...(c + 0.5) }
            return lo...hi
        }
        for i in 0..<n {
            for j in 0...i {
                let bottom = i == n - 1
                let frame = Frame(x: left + Double(j) * (cell + gap), y: top + Double(i) * (cell + gap), width: cell, height: cell)
                var series: [Series]
                let yAxis: Axis
                if i == j {
                    let h = histogram(samples[i], bins: bins, range: ranges[i])
                    series = [.histogram(edges: h.edges, counts: h.counts, label: nil, color: Palette.color(0))]
                    yAxis = Axis(tickLabels: false)
                } else {
                    let counts = histogram2D(samples[j], samples[i], bins: bins, xRange: ranges[j], yRange: ranges[i])
                    let xe = histogram([], bins: bins, range: ranges[j]).edges, ye = histogram([], bins: bins, range: ranges[i]).edges
                    series = [.cells(xEdges: xe, yEdges: ye, values: counts, colorMap: ColorMap(name: "density", anchors: [RGB(255, 255, 255), RGB(31, 119, 180), RGB(8, 29, 88)]))]
                    if let t = truths?[i], t.isFinite { series.append(.hLine(y: t, label: nil, color: Palette.color(3))) }
                    yAxis = Axis(j == 0 ? names[i] : "", range: ranges[i], tickLabels: j == 0)
                }
                if let t = truths?[j], t.isFinite { series.append(.vLine(x: t, label: nil, color: Palette.color(3))) }
                let xAxis = Axis(bottom ? names[j] : "", range: ranges[j], tickLabels: bottom)
                f.panels.append((Panel(x: xAxis, y: yAxis, series: series, legend: false), frame))
            }
        }
        return f
    }
}
