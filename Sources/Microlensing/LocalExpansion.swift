// Kernel file: raw pointers on purpose. `farFieldExpansion` writes a cell's coefficients into the
// ray loop's own buffers (`RowBuffers` in RayShooter.swift) and the multipole-to-local
// translation runs on unchecked buffers: it is done once per cell of every map, and ray-shooting
// throughput depends on it.

/// Far-field Taylor (local) expansions of the star deflection about cell centres, built from a
/// `MultipoleTree` (the hierarchical scheme of Wambsganss 1990, with Greengard–Rokhlin
/// multipole-to-local translations as in Weisenbach et al.'s `microlensing` code).
///
/// For a cell with centre z_c and half-diagonal r, and w = z − z_c with |w| ≤ r,
///
///     conj(α*_far(z)) = Σ_far mᵢ/(z − zᵢ) ≈ Σ_{l=0}^{p} c_l w^l.
///
/// - Star (P2L): with dᵢ = zᵢ − z_c, c_l −= mᵢ/dᵢ^(l+1).
/// - Node (M2L): with moments aₖ about c and t = c − z_c,
///   c_l += Σₖ aₖ (−1)^(k+1) C(k+l, l)/t^(k+l+1)
///   (expand (w − t)^−(k+1) = (−t)^−(k+1) Σ_l C(k+l, l)(w/t)^l).
///
/// Error bound: the exact far field is the double series over (k, l) whose terms are bounded by
/// M C(k+l, l) x^k y^l/|t| with x = r_node/|t|, y = r/|t|; dropping every term with k > p or
/// l > p (all have k + l > p) leaves at most (M/|t|) Σ_{j>p} (x+y)^j = M θⱼ^(p+1)/(|t|(1−θⱼ)),
/// θⱼ = (r_node + r)/|t|. A star is the case r_node = 0. Every star of the node lies within
/// |t|(1 + θⱼ) of any ray, so summed over the far field
///
///     |Δα| ≤ ε(θ*, p) · A_far(z),   ε(θ, p) = θ^(p+1)(1+θ)/(1−θ),
///     θ* = max(θ, r/((n + ½)L)) = max(θ, 1/(√2 (n + ½))),
///
/// where the second term is the worst ratio for a far star just outside the (2n+1)² near block
/// (0.471 for n = 1, 0.283 for n = 2) and A_far = Σ_far mᵢ/|z − zᵢ|. The expansion routine also
/// returns the a-posteriori bound Σⱼ Mⱼ θⱼ^(p+1)/(|tⱼ|(1 − θⱼ)) for the cell, which is what the
/// ray shooter reports.
struct CellGrid: Sendable {
    /// Lower-left corner of cell (0, 0) in the image plane.
    let originX: Double, originY: Double
    /// Cell side L.
    let cellSize: Double
    let columns: Int, rows: Int
    /// n, the half-width of the near block in cells.
    let near: Int
    /// Cell indices of the stars in tree order, clamped to [−n−1, columns+n] × [−n−1, rows+n]
    /// (clamping keeps a far star far for every cell).
    let starBX: [Int32], starBY: [Int32]
    /// Ranges of cell indices spanned by each node's stars.
    let nodeMinBX: [Int32], nodeMaxBX: [Int32], nodeMinBY: [Int32], nodeMaxBY: [Int32]
    /// Stars bucketed by cell over the grid padded by n on every side (CSR layout, row-major in
    /// the padded grid of width columns + 2n).
    let bucketStart: [Int32]
    let bucketX: [Double], bucketY: [Double], bucketM: [Double]

    var paddedColumns: Int { columns + 2 * near }

    init(tree: MultipoleTree, originX: Double, originY: Double, cellSize: Double, columns: Int, rows: Int, near: Int) {
        self.originX = originX
        self.originY = originY
        self.cellSize = cellSize
        self.columns = columns
        self.rows = rows
        self.near = near
        let ns = tree.starCount
        var bx = [Int32](repeating: 0, count: ns), by = bx
        let inv = 1 / cellSize
        for i in 0..<ns {
            let fx = ((tree.sx[i] - originX) * inv).rounded(.down)
            let fy = ((tree.sy[i] - originY) * inv).rounded(.down)
            bx[i] = Int32(min(max(fx, Double(-near - 1)), Double(columns + near)))
            by[i] = Int32(min(max(fy, Double(-near - 1)), Double(rows + near)))
        }
        starBX = bx
        starBY = by
        let nn = tree.nodeCount
        var minX = [Int32](repeating: .max, count: nn), maxX = [Int32](repeating: .min, count: nn)
        var minY = minX, maxY = maxX
        for node in 0..<nn {
            for i in Int(tree.starStart[node])..<Int(tree.starEnd[node]) {
                minX[node] = min(minX[node], bx[i]); maxX[node] = max(maxX[node], bx[i])
                minY[node] = min(minY[node], by[i]); maxY[node] = max(maxY[node], by[i])
            }
        }
        nodeMinBX = minX; nodeMaxBX = maxX; nodeMinBY = minY; nodeMaxBY = maxY
        // Buckets over the padded grid.
        let pw = columns + 2 * near, ph = rows + 2 * near
        var start = [Int32](repeating: 0, count: pw * ph + 1)
        func bucket(_ i: Int) -> Int? {
            let px = Int(bx[i]) + near, py = Int(by[i]) + near
            guard px >= 0 && px < pw && py >= 0 && py < ph else { return nil }
            return py * pw + px
        }
        for i in 0..<ns { if let b = bucket(i) { start[b + 1] += 1 } }
        for b in 0..<(pw * ph) { start[b + 1] += start[b] }
        var fill = start
        var xs = [Double](repeating: 0, count: Int(start[pw * ph])), ys = xs, ms = xs
        for i in 0..<ns {
            if let b = bucket(i) {
                let k = Int(fill[b]); fill[b] += 1
                xs[k] = tree.sx[i]; ys[k] = tree.sy[i]; ms[k] = tree.sm[i]
            }
        }
        bucketStart = start
        bucketX = xs; bucketY = ys; bucketM = ms
    }

    /// Centre of cell (cx, cy).
    func center(_ cx: Int, _ cy: Int) -> (x: Double, y: Double) {
        (originX + (Double(cx) + 0.5) * cellSize, originY + (Double(cy) + 0.5) * cellSize)
    }
}

/// Reusable buffers for building local expansions (no allocation per cell).
struct LocalExpansionScratch {
    var stack: [Int32] = []
    var powRe: [Double], powIm: [Double]
    var bRe: [Double], bIm: [Double]

    init(order: Int) {
        stack.reserveCapacity(256)
        powRe = [Double](repeating: 0, count: order + 2); powIm = powRe
        bRe = [Double](repeating: 0, count: order + 1); bIm = bRe
    }
}

extension MultipoleTree {
    /// Binomial coefficients C(n, k), n, k ≤ 2p, flat with row length 2p+1.
    static func binomialTable(order p: Int) -> [Double] {
        let w = 2 * p + 1
        var t = [Double](repeating: 0, count: w * w)
        for n in 0..<w {
            t[n * w] = 1
            if n > 0 { for k in 1...n { t[n * w + k] = t[(n - 1) * w + k - 1] + (k <= n - 1 ? t[(n - 1) * w + k] : 0) } }
        }
        return t
    }

    /// Writes the local expansion c₀…c_p (real parts to `cr`, imaginary to `ci`) of the stars
    /// outside the near block of cell (cellX, cellY) about the cell centre, and returns its
    /// a-posteriori error bound (see the file's documentation). `radius` is the half-diagonal of
    /// the region the expansion must serve.
    func farFieldExpansion(cellX: Int, cellY: Int, grid: CellGrid, radius rCell: Double, openingAngle theta: Double,
                           binomial: [Double], cr: UnsafeMutablePointer<Double>, ci: UnsafeMutablePointer<Double>,
                           scratch: inout LocalExpansionScratch) -> Double {
        let p = order, bw = 2 * order + 1
        for l in 0...p { cr[l] = 0; ci[l] = 0 }
        guard starCount > 0 else { return 0 }
        let (zx, zy) = grid.center(cellX, cellY)
        let n = Int32(grid.near)
        let cxi = Int32(cellX), cyi = Int32(cellY)
        let loX = cxi - n, hiX = cxi + n, loY = cyi - n, hiY = cyi + n
        var bound = 0.0
        scratch.stack.removeAll(keepingCapacity: true)
        scratch.stack.append(0)
        while let top = scratch.stack.popLast() {
            let node = Int(top)
            let nMinX = grid.nodeMinBX[node], nMaxX = grid.nodeMaxBX[node]
            let nMinY = grid.nodeMinBY[node], nMaxY = grid.nodeMaxBY[node]
            // Entirely inside the near block: summed directly by the caller.
            if nMinX >= loX && nMaxX <= hiX && nMinY >= loY && nMaxY <= hiY { continue }
            if childCount[node] == 0 {
                // Leaf: star by star (P2L), skipping near stars.
                for i in Int(starStart[node])..<Int(starEnd[node]) {
                    let bx = grid.starBX[i], by = grid.starBY[i]
                    if bx >= loX && bx <= hiX && by >= loY && by <= hiY { continue }
                    let dx = sx[i] - zx, dy = sy[i] - zy
                    let d2 = dx * dx + dy * dy
                    let ur = dx / d2, ui = -dy / d2          // u = 1/dᵢ
                    let m = sm[i]
                    var pr = ur, pi = ui                     // u^(l+1)
                    for l in 0...p {
                        cr[l] -= m * pr
                        ci[l] -= m * pi
                        let t = pr * ur - pi * ui
                        pi = pr * ui + pi * ur
                        pr = t
                    }
                    let d = d2.squareRoot()
                    let th = rCell / d
                    var q = 1.0
                    for _ in 0...p { q *= th }
                    bound += m * q / (d * (1 - th))
                }
                continue
            }
            let disjoint = nMaxX < loX || nMinX > hiX || nMaxY < loY || nMinY > hiY
            if disjoint {
                let tx = cx[node] - zx, ty = cy[node] - zy
                let d2 = tx * tx + ty * ty
                let d = d2.squareRoot()
                let th = (radius[node] + rCell) / d
                if th <= theta {
                    multipoleToLocal(node: node, tx: tx, ty: ty, binomial: binomial, bw: bw,
                                     cr: cr, ci: ci, scratch: &scratch)
                    var q = 1.0
                    for _ in 0...p { q *= th }
                    bound += nodeMass[node] * q / (d * (1 - th))
                    continue
                }
            }
            let f = Int(firstChild[node])
            for c in 0..<Int(childCount[node]) { scratch.stack.append(Int32(f + c)) }
        }
        return bound
    }

    /// c_l += Σₖ aₖ (−1)^(k+1) C(k+l, l) u^(k+l+1), u = 1/t, computed as
    /// bₖ = (−1)^(k+1) aₖ u^(k+1), c_l += u^l Σₖ C(k+l, l) bₖ.
    @inline(__always)
    private func multipoleToLocal(node: Int, tx: Double, ty: Double, binomial: [Double], bw: Int,
                                  cr: UnsafeMutablePointer<Double>, ci: UnsafeMutablePointer<Double>,
                                  scratch: inout LocalExpansionScratch) {
        let p = order, p1 = order + 1
        let d2 = tx * tx + ty * ty
        let ur = tx / d2, ui = -ty / d2
        scratch.powRe.withUnsafeMutableBufferPointer { powRe in
        scratch.powIm.withUnsafeMutableBufferPointer { powIm in
        scratch.bRe.withUnsafeMutableBufferPointer { bRe in
        scratch.bIm.withUnsafeMutableBufferPointer { bIm in
        momRe.withUnsafeBufferPointer { ar in
        momIm.withUnsafeBufferPointer { ai in
        binomial.withUnsafeBufferPointer { bin in
            powRe[0] = 1; powIm[0] = 0
            for j in 1...(p + 1) {
                powRe[j] = powRe[j - 1] * ur - powIm[j - 1] * ui
                powIm[j] = powRe[j - 1] * ui + powIm[j - 1] * ur
            }
            let base = node * p1
            for k in 0...p {
                let a0 = ar[base + k], a1 = ai[base + k]
                let sgn: Double = (k & 1) == 0 ? -1 : 1
                bRe[k] = sgn * (a0 * powRe[k + 1] - a1 * powIm[k + 1])
                bIm[k] = sgn * (a0 * powIm[k + 1] + a1 * powRe[k + 1])
            }
            for l in 0...p {
                var sr = 0.0, si = 0.0
                for k in 0...p {
                    let c = bin[(k + l) * bw + l]
                    sr += c * bRe[k]
                    si += c * bIm[k]
                }
                cr[l] += powRe[l] * sr - powIm[l] * si
                ci[l] += powRe[l] * si + powIm[l] * sr
            }
        }}}}}}}
    }
}
