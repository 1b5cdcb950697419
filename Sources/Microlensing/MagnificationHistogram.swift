import RealModule

/// Distribution of a map's pixel values in log10 μ (or log10(μ/μ_th)).
///
/// Bins are uniform in the chosen variable over [lower, upper); pixels below or above the range
/// (including μ = 0, whose log is −∞) are counted in `underflow` / `overflow`. The normalised
/// PDF per bin is counts/(N·Δ) with N the total number of pixels (in range or not) and Δ the
/// bin width in dex, so Σ pdf·Δ is the fraction of pixels inside the range.
public struct MagnificationHistogram: Sendable, Equatable {
    /// What is histogrammed.
    public enum Variable: String, Sendable, Codable {
        /// log10 μ.
        case log10Magnification
        /// log10(μ/μ_th), the magnification relative to the theoretical mean.
        case log10RelativeMagnification
    }

    public let variable: Variable
    /// Lower edge of the first bin and upper edge of the last, in dex.
    public let lower: Double, upper: Double
    /// Pixels per bin.
    public let counts: [Int]
    /// Pixels below `lower` (incl. μ ≤ 0) and at or above `upper`.
    public let underflow: Int, overflow: Int

    /// Histogram of a map. `range` is in dex of the chosen variable.
    public init(map: MagnificationMap, range: ClosedRange<Double> = -1.5...2.5, bins: Int = 200,
                variable: Variable = .log10Magnification) throws {
        let scale = variable == .log10RelativeMagnification ? 1 / map.theoreticalMagnification : 1
        try self.init(values: map.pixels, scale: scale, range: range, bins: bins, variable: variable)
    }

    /// Histogram of log10(scale·v) over `values`.
    public init(values: [Float], scale: Double = 1, range: ClosedRange<Double>, bins: Int,
                variable: Variable = .log10Magnification) throws {
        try MicrolensingError.require(bins >= 1, "bins", Double(bins), "must be >= 1")
        try MicrolensingError.require(range.lowerBound.isFinite && range.upperBound.isFinite
                                      && range.upperBound > range.lowerBound,
                                      "histogramRange", range.upperBound - range.lowerBound, "must be finite with upper > lower")
        self.variable = variable
        lower = range.lowerBound
        upper = range.upperBound
        var c = [Int](repeating: 0, count: bins)
        var under = 0, over = 0
        let inv = Double(bins) / (upper - lower)
        for v in values {
            let x = Double(v) * scale
            guard x > 0 else { under += 1; continue }
            let t = (Double.log10(x) - lower) * inv
            if t < 0 { under += 1 } else if t >= Double(bins) { over += 1 } else { c[Int(t)] += 1 }
        }
        counts = c
        underflow = under
        overflow = over
    }

    public var binCount: Int { counts.count }
    /// Bin width in dex.
    public var binWidth: Double { (upper - lower) / Double(counts.count) }
    /// Bin centres in dex.
    public var binCenters: [Double] { (0..<counts.count).map { lower + (Double($0) + 0.5) * binWidth } }
    /// All pixels, in range or not.
    public var total: Int { counts.reduce(0, +) + underflow + overflow }
    /// counts/(total·binWidth): probability density per dex.
    public var pdf: [Double] {
        let norm = 1 / (Double(max(total, 1)) * binWidth)
        return counts.map { Double($0) * norm }
    }
    /// Cumulative fraction of all pixels below each bin's upper edge (underflow included).
    public var cumulative: [Double] {
        var s = Double(underflow)
        let t = Double(max(total, 1))
        return counts.map { s += Double($0); return s / t }
    }
}
