import RealModule

/// Separated modes of one parameter's pooled posterior draws, with their weights: the multimodality report of a
/// hierarchical run, beside split R̂ (which flags chains that disagree but does not say how).
///
/// Method (1-D, per parameter): a Gaussian kernel density estimate of all chains' draws pooled (Silverman's
/// bandwidth 0.9 min(sd, IQR/1.34) n^(−1/5), times `bandwidthScale`) on `gridPoints` points spanning the draws ±3
/// bandwidths. Its local maxima are candidate modes. Two neighbouring maxima are *separated* when the lowest density
/// between them is below `dipFraction` × the lower of the two peaks; otherwise the lower one is merged into its
/// neighbour (repeated until every remaining pair is separated). Each mode's weight is the fraction of draws that
/// fall in its basin (between the dips on either side), and each chain is assigned the mode holding most of its
/// draws, so a report says which chains sit in which mode.
public struct ModeReport: Sendable, Equatable, Codable {
    public struct Mode: Sendable, Equatable, Codable {
        /// Where the density estimate peaks (parameter units).
        public var location: Double
        /// Basin limits: the dips on either side (nil: unbounded, for the outermost modes).
        public var lower: Double?, upper: Double?
        /// Fraction of all pooled draws in the basin.
        public var weight: Double
        /// Chains whose draws fall mostly in this basin.
        public var chains: [Int]
    }

    public var modes: [Mode]

    /// Whether more than one separated mode was found.
    public var isMultimodal: Bool { modes.count > 1 }

    /// The report for `chains` (one array of draws per chain; all finite).
    public static func find(_ chains: [[Double]], dipFraction: Double = 0.5, bandwidthScale: Double = 1,
                            gridPoints: Int = 512) -> ModeReport {
        let pooled = chains.flatMap { $0 }.filter(\.isFinite).sorted()
        guard pooled.count >= 2, let lo = pooled.first, let hi = pooled.last, hi > lo else {
            let x = pooled.first ?? .nan
            return ModeReport(modes: [Mode(location: x, lower: nil, upper: nil, weight: 1,
                                           chains: Array(chains.indices))])
        }
        let n = Double(pooled.count)
        let mean = pooled.reduce(0, +) / n
        let sd = (pooled.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        let iqr = quantileSorted(pooled, 0.75) - quantileSorted(pooled, 0.25)
        let spread = iqr > 0 ? Swift.min(sd, iqr / 1.34) : sd
        let h = Swift.max(0.9 * spread * Double.pow(n, -0.2) * bandwidthScale, (hi - lo) * 1e-6)
        let a = lo - 3 * h, b = hi + 3 * h
        let m = Swift.max(gridPoints, 16)
        let xs = (0..<m).map { a + (b - a) * Double($0) / Double(m - 1) }
        // Binned KDE: histogram on the grid, then convolution with the kernel (exact enough at this resolution).
        var counts = [Double](repeating: 0, count: m)
        let dx = (b - a) / Double(m - 1)
        for v in pooled { counts[Swift.min(m - 1, Swift.max(0, Int(((v - a) / dx).rounded())))] += 1 }
        let reach = Int((4 * h / dx).rounded(.up))
        var density = [Double](repeating: 0, count: m)
        for i in 0..<m where counts[i] > 0 {
            for j in Swift.max(0, i - reach)...Swift.min(m - 1, i + reach) {
                let u = (xs[j] - xs[i]) / h
                density[j] += counts[i] * Double.exp(-0.5 * u * u)
            }
        }
        // Local maxima (plateaus count once), then merge pairs without a deep enough dip.
        var peaks: [Int] = []
        for i in 0..<m {
            let left = i == 0 ? -Double.infinity : density[i - 1]
            let right = i == m - 1 ? -Double.infinity : density[i + 1]
            if density[i] > left && density[i] >= right && density[i] > 0 { peaks.append(i) }
        }
        func dip(_ p: Int, _ q: Int) -> Int { (p...q).min { density[$0] < density[$1] }! }
        var merged = true
        while merged && peaks.count > 1 {
            merged = false
            for k in 0..<(peaks.count - 1) {
                let p = peaks[k], q = peaks[k + 1]
                if density[dip(p, q)] >= dipFraction * Swift.min(density[p], density[q]) {
                    peaks.remove(at: density[p] < density[q] ? k : k + 1)
                    merged = true
                    break
                }
            }
        }
        var edges = [-Double.infinity]
        for k in 0..<(peaks.count - 1) { edges.append(xs[dip(peaks[k], peaks[k + 1])]) }
        edges.append(.infinity)
        func basin(_ v: Double) -> Int { (0..<peaks.count).first { v < edges[$0 + 1] } ?? peaks.count - 1 }
        var inBasin = [Double](repeating: 0, count: peaks.count)
        for v in pooled { inBasin[basin(v)] += 1 }
        var chainsOf = [[Int]](repeating: [], count: peaks.count)
        for (c, draws) in chains.enumerated() {
            var tally = [Int](repeating: 0, count: peaks.count)
            for v in draws where v.isFinite { tally[basin(v)] += 1 }
            if let best = tally.indices.max(by: { tally[$0] < tally[$1] }), tally[best] > 0 { chainsOf[best].append(c) }
        }
        return ModeReport(modes: peaks.indices.map {
            Mode(location: xs[peaks[$0]], lower: edges[$0].isFinite ? edges[$0] : nil,
                 upper: edges[$0 + 1].isFinite ? edges[$0 + 1] : nil, weight: inBasin[$0] / n, chains: chainsOf[$0])
        })
    }

    /// Linear-interpolated quantile `q` ∈ [0, 1] of ascending values.
    public static func quantileSorted(_ v: [Double], _ q: Double) -> Double {
        let pos = q * Double(v.count - 1)
        let i = Int(pos), t = pos - Double(i)
        return i + 1 < v.count ? v[i] * (1 - t) + v[i + 1] * t : v[i]
    }
}
