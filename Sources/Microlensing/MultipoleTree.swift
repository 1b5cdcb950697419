/// A Barnes–Hut quadtree over a star field with complex multipole expansions (Barnes & Hut
/// 1986; multipoles in complex notation as in Greengard & Rokhlin 1987).
///
/// In complex notation (z = x₁ + i x₂) the star deflection is conj(α*(z)) = Σᵢ mᵢ/(z − zᵢ).
/// A node with stars within radius r of its expansion centre c (its centre of mass) has
/// moments aₖ = Σᵢ mᵢ (zᵢ − c)ᵏ, k = 0…p, and for |z − c| > r
///
///     Σᵢ mᵢ/(z − zᵢ) = Σₖ aₖ/(z − c)^(k+1)        (truncated at k = p).
///
/// Opening criterion: a node is used through its multipole when r ≤ θ·|z − c|; otherwise it is
/// opened, and leaves are summed directly (exactly).
///
/// Error bound. With positive masses |aₖ| ≤ M rᵏ (M = Σmᵢ), so the truncation error of an
/// accepted node is at most M (r/d)^(p+1)/(d − r), d = |z − c|. Since every star of the node is
/// within d + r ≤ d(1 + θ) of z, M/d ≤ (1 + θ) Σᵢ mᵢ/|z − zᵢ|, and summing over nodes
///
///     |α_tree(z) − α*(z)| ≤ ε(θ, p) · A(z),   ε(θ, p) = θ^(p+1) (1 + θ)/(1 − θ),
///
/// where A(z) = Σᵢ mᵢ/|z − zᵢ| is the sum of the magnitudes of the individual deflections
/// (`DirectDeflection.absoluteSum`). `deflection(x:y:openingAngle:)` also returns the sharper
/// a-posteriori bound Σ_nodes M (r/d)^(p+1)/(d − r) it actually incurred. Examples of ε:
/// θ = 0.5: p = 6 → 2.3e−2, p = 10 → 1.5e−3, p = 16 → 2.3e−5; θ = 0.3: p = 10 → 3.3e−6.
public struct MultipoleTree: Sendable {
    /// Multipole order p (moments a₀…a_p).
    public let order: Int
    /// Most stars a leaf holds.
    public let leafSize: Int

    // Stars in tree order (each node's stars are contiguous).
    let sx: [Double], sy: [Double], sm: [Double]
    // Nodes.
    let cx: [Double], cy: [Double]          // expansion centre (centre of mass)
    let radius: [Double]                      // max |zᵢ − c| over the node's stars
    let nodeMass: [Double]                    // Σ mᵢ
    let firstChild: [Int32], childCount: [Int32]
    let starStart: [Int32], starEnd: [Int32]
    let momRe: [Double], momIm: [Double]      // node·(p+1) + k

    /// Number of nodes.
    public var nodeCount: Int { cx.count }
    /// Number of stars.
    public var starCount: Int { sx.count }

    /// Largest supported order.
    public static let maximumOrder = 40

    /// ε(θ, p) = θ^(p+1)(1 + θ)/(1 − θ): the relative error bound, in units of A(z).
    public static func relativeErrorFactor(openingAngle theta: Double, order p: Int) -> Double {
        var t = 1.0
        for _ in 0...p { t *= theta }
        return t * (1 + theta) / (1 - theta)
    }

    /// Builds the tree: the root is the bounding square of the stars, nodes are split into
    /// quadrants until they hold at most `leafSize` stars.
    public init(stars: StarField, order: Int = 16, leafSize: Int = 8) throws {
        try MicrolensingError.require(order >= 1 && order <= Self.maximumOrder, "order", Double(order),
                                      "must lie in 1...\(Self.maximumOrder)")
        try MicrolensingError.require(leafSize >= 1, "leafSize", Double(leafSize), "must be >= 1")
        self.order = order
        self.leafSize = leafSize
        var b = TreeBuilder(x: stars.x, y: stars.y, leafSize: leafSize)
        b.build()
        let perm = b.index
        sx = perm.map { stars.x[$0] }
        sy = perm.map { stars.y[$0] }
        sm = perm.map { stars.mass[$0] }
        firstChild = b.firstChild
        childCount = b.childCount
        starStart = b.starStart
        starEnd = b.starEnd

        let nNodes = b.firstChild.count
        let p1 = order + 1
        var cxs = [Double](repeating: 0, count: nNodes), cys = cxs, rad = cxs, mass = cxs
        var mr = [Double](repeating: 0, count: nNodes * p1), mi = mr
        for node in 0..<nNodes {
            let s = Int(b.starStart[node]), e = Int(b.starEnd[node])
            var m = 0.0, mx = 0.0, my = 0.0
            for i in s..<e { m += sm[i]; mx += sm[i] * sx[i]; my += sm[i] * sy[i] }
            let c0 = m > 0 ? mx / m : 0, c1 = m > 0 ? my / m : 0
            var r2 = 0.0
            for i in s..<e {
                let dx = sx[i] - c0, dy = sy[i] - c1
                r2 = max(r2, dx * dx + dy * dy)
                // aₖ += m (z − c)ᵏ
                var pr = sm[i], pi = 0.0
                for k in 0..<p1 {
                    mr[node * p1 + k] += pr
                    mi[node * p1 + k] += pi
                    let t = pr * dx - pi * dy
                    pi = pr * dy + pi * dx
                    pr = t
                }
            }
            cxs[node] = c0; cys[node] = c1; rad[node] = r2.squareRoot(); mass[node] = m
        }
        cx = cxs; cy = cys; radius = rad; nodeMass = mass; momRe = mr; momIm = mi
    }

    /// Deflection α*(x, y) with opening angle θ ∈ (0, 1), and the a-posteriori error bound
    /// Σ M (r/d)^(p+1)/(d − r) over the nodes used through their multipoles (≤ ε(θ, p)·A).
    public func deflection(x: Double, y: Double, openingAngle theta: Double) -> (x: Double, y: Double, errorBound: Double) {
        precondition(theta > 0 && theta < 1, "openingAngle must lie in (0, 1)")
        guard !cx.isEmpty else { return (0, 0, 0) }
        let p = order, p1 = order + 1
        var fr = 0.0, fi = 0.0, bound = 0.0
        var stack: [Int32] = [0]
        stack.reserveCapacity(128)
        while let top = stack.popLast() {
            let node = Int(top)
            let dx = x - cx[node], dy = y - cy[node]
            let d2 = dx * dx + dy * dy
            let d = d2.squareRoot()
            let r = radius[node]
            let leaf = childCount[node] == 0
            if !leaf && d > 0 && r <= theta * d {
                // u = 1/(z − c); f += Σₖ aₖ u^(k+1) by Horner.
                let ur = dx / d2, ui = -dy / d2
                var ar = momRe[node * p1 + p], ai = momIm[node * p1 + p]
                for k in stride(from: p - 1, through: 0, by: -1) {
                    let t = ar * ur - ai * ui + momRe[node * p1 + k]
                    ai = ar * ui + ai * ur + momIm[node * p1 + k]
                    ar = t
                }
                fr += ar * ur - ai * ui
                fi += ar * ui + ai * ur
                var q = 1.0
                let ratio = r / d
                for _ in 0...p { q *= ratio }
                bound += nodeMass[node] * q / (d - r)
            } else if leaf {
                for i in Int(starStart[node])..<Int(starEnd[node]) {
                    let ex = x - sx[i], ey = y - sy[i]
                    let f = sm[i] / (ex * ex + ey * ey)
                    fr += f * ex
                    fi -= f * ey     // m/(z − zᵢ) = m·conj(z − zᵢ)/|z − zᵢ|²
                }
            } else {
                let f = Int(firstChild[node])
                for c in 0..<Int(childCount[node]) { stack.append(Int32(f + c)) }
            }
        }
        return (fr, -fi, bound)   // α = conj(f)
    }
}

/// Builds the quadtree structure: a permutation of the stars and, per node, its star range and
/// contiguous children.
struct TreeBuilder {
    let x: [Double], y: [Double]
    let leafSize: Int
    var index: [Int]
    var scratch: [Int]
    var firstChild: [Int32] = [], childCount: [Int32] = []
    var starStart: [Int32] = [], starEnd: [Int32] = []
    static let maximumDepth = 48

    init(x: [Double], y: [Double], leafSize: Int) {
        self.x = x
        self.y = y
        self.leafSize = leafSize
        index = Array(0..<x.count)
        scratch = index
    }

    mutating func build() {
        guard !x.isEmpty else {
            firstChild = [-1]; childCount = [0]; starStart = [0]; starEnd = [0]
            return
        }
        let x0 = x.min()!, x1 = x.max()!, y0 = y.min()!, y1 = y.max()!
        let half = max(x1 - x0, y1 - y0) * 0.5 * (1 + 1e-12) + 1e-300
        appendNode(start: 0, end: x.count)
        split(node: 0, centerX: 0.5 * (x0 + x1), centerY: 0.5 * (y0 + y1), half: half, depth: 0)
    }

    private mutating func appendNode(start: Int, end: Int) {
        firstChild.append(-1); childCount.append(0)
        starStart.append(Int32(start)); starEnd.append(Int32(end))
    }

    private mutating func split(node: Int, centerX: Double, centerY: Double, half: Double, depth: Int) {
        let s = Int(starStart[node]), e = Int(starEnd[node])
        if e - s <= leafSize || depth >= Self.maximumDepth { return }
        // Counting sort of the range into quadrants q = (x ≥ cx) + 2 (y ≥ cy).
        var counts = (0, 0, 0, 0)
        @inline(__always) func quadrant(_ i: Int) -> Int {
            (x[i] >= centerX ? 1 : 0) + (y[i] >= centerY ? 2 : 0)
        }
        for k in s..<e {
            switch quadrant(index[k]) {
            case 0: counts.0 += 1
            case 1: counts.1 += 1
            case 2: counts.2 += 1
            default: counts.3 += 1
            }
        }
        let c = [counts.0, counts.1, counts.2, counts.3]
        var offsets = [s, s + c[0], s + c[0] + c[1], s + c[0] + c[1] + c[2]]
        let starts = offsets
        for k in s..<e {
            let q = quadrant(index[k])
            scratch[offsets[q]] = index[k]
            offsets[q] += 1
        }
        for k in s..<e { index[k] = scratch[k] }
        let nonEmpty = (0..<4).filter { c[$0] > 0 }
        let first = firstChild.count
        firstChild[node] = Int32(first)
        childCount[node] = Int32(nonEmpty.count)
        for q in nonEmpty { appendNode(start: starts[q], end: starts[q] + c[q]) }
        let h2 = half / 2
        for (j, q) in nonEmpty.enumerated() {
            let ccx = centerX + ((q & 1) != 0 ? h2 : -h2)
            let ccy = centerY + ((q & 2) != 0 ? h2 : -h2)
            split(node: first + j, centerX: ccx, centerY: ccy, half: h2, depth: depth + 1)
        }
    }
}
