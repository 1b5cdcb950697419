/// Assigning halos to bins for the population fit (`tessera clusters bin`).
///
/// Two schemes: half-open intervals [eₖ, eₖ₊₁) on one numeric column (the last bin also holds
/// its upper edge), or bin labels given per halo by the user (an external command). A bin that
/// receives no halo is reported in `emptyBins`, so the caller can skip it with a log line or stop.
public struct HaloBinning: Sendable, Equatable {
    /// Bin labels in order ("0", "1", … for edges; first appearance for given labels).
    public let labels: [String]
    /// Per bin, the indices of its halos (ascending).
    public let members: [[Int]]
    /// Per bin, its [lower, upper] edges (nil for labels given per halo).
    public let edges: [(lower: Double, upper: Double)?]
    /// Halos in no bin: outside every edge, a NaN value, or no label.
    public let unbinned: [Int]

    /// Labels of bins without halos.
    public var emptyBins: [String] { zip(labels, members).filter { $0.1.isEmpty }.map(\.0) }

    public static func == (a: HaloBinning, b: HaloBinning) -> Bool {
        a.labels == b.labels && a.members == b.members && a.unbinned == b.unbinned
            && a.edges.map { $0.map { [$0.lower, $0.upper] } } == b.edges.map { $0.map { [$0.lower, $0.upper] } }
    }

    /// Bin `values` (one per halo) by `edges`, which must be finite and strictly increasing
    /// (at least two). `field` names the column in errors.
    public init(values: [Double], edges: [Double], field: String = "edges") throws(ClusterFittingError) {
        guard edges.count >= 2 else {
            throw .invalidArgument(field: field, reason: "need at least two bin edges, got \(edges.count)")
        }
        for (i, e) in edges.enumerated() where !e.isFinite { throw .notFinite(field: field, index: i, value: e) }
        for i in 1..<edges.count where !(edges[i] > edges[i - 1]) {
            throw .invalidArgument(field: field, reason: "bin edges must increase strictly (edge \(i) = \(edges[i]) after \(edges[i - 1]))")
        }
        var members = [[Int]](repeating: [], count: edges.count - 1)
        var unbinned: [Int] = []
        for (i, v) in values.enumerated() {
            guard v.isFinite, v >= edges[0], v <= edges[edges.count - 1] else { unbinned.append(i); continue }
            // Largest k with edges[k] <= v, capped at the last bin so the top edge is inside.
            var lo = 0, hi = edges.count - 1
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if edges[mid] <= v { lo = mid } else { hi = mid }
            }
            members[lo].append(i)
        }
        self.labels = (0..<(edges.count - 1)).map { String($0) }
        self.members = members
        self.edges = (0..<(edges.count - 1)).map { (edges[$0], edges[$0 + 1]) }
        self.unbinned = unbinned
    }

    /// Bin by a label per halo (nil: the halo is in no bin). `expected` lists labels that must
    /// appear as bins even if no halo carries them (so they are reported empty).
    public init(labels perHalo: [String?], expected: [String] = []) {
        var order = expected
        var index = Dictionary(uniqueKeysWithValues: expected.enumerated().map { ($1, $0) })
        var members = [[Int]](repeating: [], count: expected.count)
        var unbinned: [Int] = []
        for (i, label) in perHalo.enumerated() {
            guard let label else { unbinned.append(i); continue }
            if index[label] == nil {
                index[label] = order.count
                order.append(label)
                members.append([])
            }
            members[index[label]!].append(i)
        }
        self.labels = order
        self.members = members
        self.edges = [(lower: Double, upper: Double)?](repeating: nil, count: order.count)
        self.unbinned = unbinned
    }
}
