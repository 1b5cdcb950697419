/// Where to evaluate A(η): a space-filling Halton design over a box, then refinement rounds that add points
/// where the interpolant's leave-one-out error is largest against its tolerance.
///
/// Everything here is deterministic (no random numbers; ties broken by index), so a build spread over any number
/// of ranks, or killed and resumed, chooses the same points in the same order.
public enum SelectionDesign {
    /// The first primes, the Halton bases of up to 8 dimensions.
    static let primes = [2, 3, 5, 7, 11, 13, 17, 19]

    /// The radical inverse of `index` in base `base` (van der Corput), in [0, 1).
    static func radicalInverse(_ index: Int, base: Int) -> Double {
        var i = index, f = 1.0, r = 0.0
        while i > 0 {
            f /= Double(base)
            r += f * Double(i % base)
            i /= base
        }
        return r
    }

    /// Halton points `start..<start+count` of the unit cube in `dimensions` (≤ 8) dimensions. Index 0 (the
    /// origin corner) is never used: point k is the sequence's element k + 1. The low-discrepancy sequence fills
    /// the cube evenly at every prefix length, so later points are a natural pool of refinement candidates.
    public static func halton(count: Int, start: Int = 0, dimensions: Int) -> [[Double]] {
        precondition(dimensions >= 1 && dimensions <= primes.count, "Halton design in 1...\(primes.count) dimensions")
        return (start..<(start + count)).map { k in (0..<dimensions).map { radicalInverse(k + 1, base: primes[$0]) } }
    }

    /// Unit-cube points mapped onto the box `lower`…`upper`.
    public static func scale(_ unit: [[Double]], lower: [Double], upper: [Double]) -> [[Double]] {
        unit.map { u in u.indices.map { lower[$0] + u[$0] * (upper[$0] - lower[$0]) } }
    }

    /// Whether every node's leave-one-out error is within its tolerance: |e_i| ≤ tolerance_i.
    public static func converged(errors: [Double], tolerances: [Double]) -> Bool {
        zip(errors, tolerances).allSatisfy { abs($0) <= $1 }
    }

    /// The worst ratio |e_i| / tolerance_i (≤ 1 when converged).
    public static func worstRatio(errors: [Double], tolerances: [Double]) -> Double {
        zip(errors, tolerances).reduce(0) { max($0, abs($1.0) / $1.1) }
    }

    /// Up to `count` candidates to evaluate next, as indices into `candidates` (unit-cube points not yet used).
    ///
    /// Nodes whose |e_i| exceeds tolerance_i are taken worst ratio first; for each, the candidate farthest from
    /// every node among those whose nearest node it is (the emptiest part of that node's Voronoi cell) is
    /// chosen. A node with no such candidate left is passed over. Empty when every node is within tolerance.
    public static func refine(nodes: [[Double]], errors: [Double], tolerances: [Double], candidates: [[Double]],
                              count: Int) -> [Int] {
        let order = nodes.indices.filter { abs(errors[$0]) > tolerances[$0] }
            .sorted { (abs(errors[$0]) / tolerances[$0], $1) > (abs(errors[$1]) / tolerances[$1], $0) }
        guard !order.isEmpty, count > 0 else { return [] }
        // Each candidate's nearest node and distance to it.
        var nearest = [Int](repeating: 0, count: candidates.count), gap = [Double](repeating: .infinity, count: candidates.count)
        for (c, x) in candidates.enumerated() {
            for (i, node) in nodes.enumerated() {
                let d = RadialBasisInterpolant.distance(x, node)
                if d < gap[c] { gap[c] = d; nearest[c] = i }
            }
        }
        var chosen: [Int] = []
        for node in order where chosen.count < count {
            var best: Int? = nil
            for c in candidates.indices where nearest[c] == node && !chosen.contains(c) {
                // Distance also to the points chosen in this round, so two picks do not sit together.
                let d = chosen.reduce(gap[c]) { min($0, RadialBasisInterpolant.distance(candidates[c], candidates[$1])) }
                if best == nil || d > chosen.reduce(gap[best!], { min($0, RadialBasisInterpolant.distance(candidates[best!], candidates[$1])) }) {
                    best = c
                }
            }
            if let best { chosen.append(best) }
        }
        return chosen
    }
}
