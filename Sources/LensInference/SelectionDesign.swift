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
    /// Each candidate inherits the error ratio ρ = |e_i| / tolerance_i of its nearest node i (the
    /// cross-validation Voronoi idea: a node's leave-one-out error measures how badly its cell is resolved);
    /// candidates in cells with ρ ≤ 1 are never taken. Of the rest, the one with the largest ρ · g is taken,
    /// where g is its distance to the nearest node or point already taken, and the gaps are updated before the
    /// next pick: the worst cells get points first, in their emptiest parts, and one round does not pile its
    /// points together. Empty when every node is within tolerance.
    public static func refine(nodes: [[Double]], errors: [Double], tolerances: [Double], candidates: [[Double]],
                              count: Int) -> [Int] {
        guard count > 0, !converged(errors: errors, tolerances: tolerances) else { return [] }
        var ratio = [Double](repeating: 0, count: candidates.count), gap = [Double](repeating: .infinity, count: candidates.count)
        for (c, x) in candidates.enumerated() {
            var nearest = 0
            for (i, node) in nodes.enumerated() {
                let d = RadialBasisInterpolant.distance(x, node)
                if d < gap[c] { gap[c] = d; nearest = i }
            }
            let r = abs(errors[nearest]) / tolerances[nearest]
            ratio[c] = r > 1 ? r : 0
        }
        var chosen: [Int] = []
        while chosen.count < count {
            var best = -1, bestScore = 0.0
            for c in candidates.indices where ratio[c] > 0 && ratio[c] * gap[c] > bestScore {
                best = c
                bestScore = ratio[c] * gap[c]
            }
            if best < 0 { break }
            chosen.append(best)
            ratio[best] = 0
            for c in candidates.indices where ratio[c] > 0 {
                gap[c] = min(gap[c], RadialBasisInterpolant.distance(candidates[c], candidates[best]))
            }
        }
        return chosen
    }
}
