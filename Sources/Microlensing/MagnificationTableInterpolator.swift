import Foundation

/// Errors of table queries; each says which coordinate is wrong and what the table covers.
public enum TableQueryError: Error, CustomStringConvertible, Equatable {
    case outsideGrid(axis: String, value: Double, range: ClosedRange<Double>)
    case nearCriticalLine(kappa: Double, gamma: Double, distance: Double, margin: Double)
    case missingCell(kappa: Double, gamma: Double, s: Double, reason: String)
    case malformedTable(file: String, reason: String)

    public var description: String {
        switch self {
        case let .outsideGrid(axis, value, range):
            return "\(axis) = \(value) is outside the table's grid [\(range.lowerBound), \(range.upperBound)]"
        case let .nearCriticalLine(k, g, d, m):
            return "(κ, γ) = (\(k), \(g)) is \(d) from the critical line |1 − κ| = γ, closer than the table's margin \(m)"
        case let .missingCell(k, g, s, reason):
            return "the interpolation needs cell (κ, γ, s) = (\(k), \(g), \(s)), which the table lacks (\(reason))"
        case let .malformedTable(file, reason): return "\(file): \(reason)"
        }
    }
}

/// Magnification PDFs on a (κ, γ, s, source size) lattice, interpolated smoothly.
///
/// The PDFs are stored as densities per unit log10(μ/μ_theory), so distributions at neighbouring
/// grid points with very different macro magnifications line up bin by bin and can be mixed.
/// Interpolation is cubic (Catmull–Rom, C¹) along κ, γ and s where the four-point stencil is in
/// the table, linear next to grid edges and missing cells, and linear in source size; negative
/// overshoots are clipped to zero. A query outside the grid or closer to the critical line than
/// the table's margin throws rather than extrapolating.
public struct MagnificationTableInterpolator: Sendable {
    public let kappaAxis: [Double], gammaAxis: [Double], sAxis: [Double], sourceSizes: [Double]
    /// Bin edges in log10(μ/μ_theory).
    public let logMuEdges: [Double]
    public let criticalMargin: Double
    /// [cell][size][bin] flattened; cells in lattice order (κ slowest, s fastest).
    let pdf: [Double]
    /// Whether each lattice cell has data.
    public let present: [Bool]
    let bins: Int
    let lowEdge: Double
    let binWidth: Double

    public init(kappaAxis: [Double], gammaAxis: [Double], sAxis: [Double], sourceSizes: [Double], logMuEdges: [Double],
                pdf: [Double], present: [Bool], criticalMargin: Double) {
        self.kappaAxis = kappaAxis
        self.gammaAxis = gammaAxis
        self.sAxis = sAxis
        self.sourceSizes = sourceSizes
        self.logMuEdges = logMuEdges
        self.pdf = pdf
        self.present = present
        self.criticalMargin = criticalMargin
        bins = logMuEdges.count - 1
        lowEdge = logMuEdges[0]
        binWidth = (logMuEdges[bins] - logMuEdges[0]) / Double(bins)
    }

    /// μ_theory = 1/|(1−κ)² − γ²|, the mean magnification of the macro model, which the
    /// table's magnification axis is measured against (infinite on the critical line).
    @inline(__always)
    public static func theoryMagnification(kappa: Double, gamma: Double) -> Double {
        1 / abs((1 - kappa) * (1 - kappa) - gamma * gamma)
    }

    /// Interpolation weights along one axis: up to four (index, weight) pairs, kept in SIMD
    /// registers so that a query allocates nothing.
    struct Stencil {
        var index = SIMD4<Int>(repeating: 0)
        var weight = SIMD4<Double>(repeating: 0)
        var count = 0

        static func linear(_ i: Int, _ t: Double, count n: Int) -> Stencil {
            var s = Stencil()
            if n == 1 || t == 0 {
                (s.index[0], s.weight[0], s.count) = (i, 1, 1)
            } else {
                s.index = SIMD4(i, i + 1, 0, 0)
                s.weight = SIMD4(1 - t, t, 0, 0)
                s.count = 2
            }
            return s
        }

        /// Catmull–Rom weights for points i−1 … i+2 (uniform in index); nil at the edges.
        static func cubic(_ i: Int, _ t: Double, count n: Int) -> Stencil? {
            guard i >= 1, i + 2 < n, t > 0 else { return nil }
            let t2 = t * t, t3 = t2 * t
            var s = Stencil()
            s.index = SIMD4(i - 1, i, i + 1, i + 2)
            s.weight = SIMD4(-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1, -1.5 * t3 + 2 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2)
            s.count = 4
            return s
        }
    }

    static func bracket(_ axis: [Double], _ x: Double, name: String) throws -> (Int, Double) {
        guard let first = axis.first, let last = axis.last, x >= first, x <= last else {
            throw TableQueryError.outsideGrid(axis: name, value: x, range: (axis.first ?? 0)...(axis.last ?? 0))
        }
        if axis.count == 1 { return (0, 0) }
        var i = 0
        var hi = axis.count - 1
        while hi - i > 1 {  // binary search: axis[i] <= x <= axis[hi]
            let mid = (i + hi) / 2
            if axis[mid] <= x { i = mid } else { hi = mid }
        }
        return (i, (x - axis[i]) / (axis[i + 1] - axis[i]))
    }

    /// A prepared query point: the weights of every table entry it mixes.
    public struct Point: Sendable {
        /// Flat offsets of the mixed PDFs (for the chosen source size) and their weights.
        let offsets: [Int]
        let weights: [Double]
        /// μ_theory of the query point.
        public let theoryMagnification: Double
    }

    /// The four stencils of a query, cubic where possible; throws for points outside the grid or
    /// near the critical line.
    private func stencils(kappa: Double, gamma: Double, s: Double, sourceSize: Double) throws
        -> (cubic: (Stencil, Stencil, Stencil), linear: (Stencil, Stencil, Stencil), size: Stencil) {
        let distance = abs(abs(1 - kappa) - gamma)
        if distance < criticalMargin {
            throw TableQueryError.nearCriticalLine(kappa: kappa, gamma: gamma, distance: distance, margin: criticalMargin)
        }
        let (ik, tk) = try Self.bracket(kappaAxis, kappa, name: "κ")
        let (ig, tg) = try Self.bracket(gammaAxis, gamma, name: "γ")
        let (iS, tS) = try Self.bracket(sAxis, s, name: "s")
        let (iz, tz) = try Self.bracket(sourceSizes, sourceSize, name: "source size")
        let linear = (Stencil.linear(ik, tk, count: kappaAxis.count), Stencil.linear(ig, tg, count: gammaAxis.count),
                      Stencil.linear(iS, tS, count: sAxis.count))
        let cubic = (Stencil.cubic(ik, tk, count: kappaAxis.count) ?? linear.0,
                     Stencil.cubic(ig, tg, count: gammaAxis.count) ?? linear.1,
                     Stencil.cubic(iS, tS, count: sAxis.count) ?? linear.2)
        return (cubic, linear, Stencil.linear(iz, tz, count: sourceSizes.count))
    }

    /// Call `body(offset, weight)` for every mixed table entry; false if a needed cell is missing.
    @inline(__always)
    private func visit(_ axes: (Stencil, Stencil, Stencil), _ size: Stencil, _ body: (Int, Double) -> Void) -> Bool {
        let nG = gammaAxis.count, nS = sAxis.count, nZ = sourceSizes.count
        for a in 0..<axes.0.count {
            for b in 0..<axes.1.count {
                for c in 0..<axes.2.count {
                    let w = axes.0.weight[a] * axes.1.weight[b] * axes.2.weight[c]
                    if w == 0 { continue }
                    let cell = (axes.0.index[a] * nG + axes.1.index[b]) * nS + axes.2.index[c]
                    if !present[cell] { return false }
                    for d in 0..<size.count { body((cell * nZ + size.index[d]) * bins, w * size.weight[d]) }
                }
            }
        }
        return true
    }

    private func missingCellError(_ axes: (Stencil, Stencil, Stencil)) -> TableQueryError {
        let nG = gammaAxis.count, nS = sAxis.count
        for a in 0..<axes.0.count { for b in 0..<axes.1.count { for c in 0..<axes.2.count {
            let cell = (axes.0.index[a] * nG + axes.1.index[b]) * nS + axes.2.index[c]
            if !present[cell] {
                return .missingCell(kappa: kappaAxis[axes.0.index[a]], gamma: gammaAxis[axes.1.index[b]], s: sAxis[axes.2.index[c]],
                                    reason: "skipped near the critical line, or not computed")
            }
        } } }
        return .missingCell(kappa: .nan, gamma: .nan, s: .nan, reason: "unknown")
    }

    /// Prepare the interpolation weights at (κ, γ, s, source size); reuse the result for many μ.
    public func point(kappa: Double, gamma: Double, s: Double, sourceSize: Double = 0) throws -> Point {
        let st = try stencils(kappa: kappa, gamma: gamma, s: s, sourceSize: sourceSize)
        var offsets: [Int] = [], weights: [Double] = []
        offsets.reserveCapacity(128)
        weights.reserveCapacity(128)
        var ok = visit(st.cubic, st.size) { offsets.append($0); weights.append($1) }
        if !ok {
            offsets.removeAll(keepingCapacity: true)
            weights.removeAll(keepingCapacity: true)
            ok = visit(st.linear, st.size) { offsets.append($0); weights.append($1) }
            if !ok { throw missingCellError(st.linear) }
        }
        return Point(offsets: offsets, weights: weights,
                     theoryMagnification: Self.theoryMagnification(kappa: kappa, gamma: gamma))
    }

    /// The whole interpolated PDF (density per unit log10(μ/μ_theory), one value per bin).
    public func pdf(at point: Point) -> [Double] {
        var out = [Double](repeating: 0, count: bins)
        for (offset, w) in zip(point.offsets, point.weights) {
            for b in 0..<bins { out[b] += w * pdf[offset + b] }
        }
        return out.map { max(0, $0) }
    }

    /// Density of log10(μ/μ_theory) at magnification `mu` (0 outside the table's range).
    /// This is the call a likelihood makes millions of times: no allocation, a few dozen terms.
    @inline(__always)
    public func density(mu: Double, at point: Point) -> Double {
        let x = log10(mu / point.theoryMagnification)
        let b = Int(((x - lowEdge) / binWidth).rounded(.down))
        guard b >= 0, b < bins else { return 0 }
        var sum = 0.0
        for i in 0..<point.offsets.count { sum += point.weights[i] * pdf[point.offsets[i] + b] }
        return max(0, sum)
    }

    /// Density of log10(μ/μ_theory) at magnification `mu` and (κ, γ, s, size) in one call,
    /// without allocating: the path for a likelihood whose macro model changes every call.
    public func density(mu: Double, kappa: Double, gamma: Double, s: Double, sourceSize: Double = 0) throws -> Double {
        let st = try stencils(kappa: kappa, gamma: gamma, s: s, sourceSize: sourceSize)
        let theory = Self.theoryMagnification(kappa: kappa, gamma: gamma)
        let x = log10(mu / theory)
        let b = Int(((x - lowEdge) / binWidth).rounded(.down))
        var sum = 0.0
        let inRange = b >= 0 && b < bins
        if !visit(st.cubic, st.size, { offset, w in if inRange { sum += w * pdf[offset + b] } }) {
            sum = 0
            if !visit(st.linear, st.size, { offset, w in if inRange { sum += w * pdf[offset + b] } }) {
                throw missingCellError(st.linear)
            }
        }
        return max(0, sum)
    }
}
