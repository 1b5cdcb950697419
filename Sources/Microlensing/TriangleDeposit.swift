/// Spreads the image-plane area of one lattice triangle over the source-plane pixels its image
/// overlaps, in proportion to the overlap: the kernel of inverse polygon mapping (Mediavilla et
/// al. 2006, ApJ 653, 942). Coordinates are in pixel units of the map: pixel (column c, row r)
/// is the unit square [c, c+1] × [r, r+1], and the map is [0, n]².
///
/// A triangle of image area a whose image has area A deposits a·(overlap with the pixel)/A into
/// each pixel, so that a pixel's total is the image-plane area that maps into it per unit
/// source area: its magnification, exactly for a lens mapping that is linear on every triangle.
/// The overlaps come from clipping the triangle to each row strip and then to each pixel of the
/// strip (Sutherland–Hodgman on a convex polygon of at most 7 vertices).
///
/// Triangles whose image spans more than `exactSpan` pixels (only those next to a star, whose
/// cells are mapped far across the source plane, with a tiny magnification) are spread by rows
/// instead: the row's share is the triangle's width at the row's centre line, added into a
/// per-row difference array (`rowDifferences`, integrated by `integrate`), so that such a
/// triangle costs one step per row rather than one clip per pixel. Dropping them instead (as
/// Weisenbach et al.'s `ipm.cuh` does beyond a stretch of 10⁴) loses their light, which is the
/// faint images next to every star: 0.12% of the mean for the reference map at 16 grid squares
/// per pixel.
///
/// Scratch buffers are owned by the value and reused: one per thread.
struct TriangleDeposit {
    /// Image span (pixels, in x or y) above which a triangle is spread by rows.
    static let exactSpan = 8.0

    private let bx: UnsafeMutablePointer<Double>, by: UnsafeMutablePointer<Double>
    private let cx: UnsafeMutablePointer<Double>, cy: UnsafeMutablePointer<Double>
    private let sx: UnsafeMutablePointer<Double>, sy: UnsafeMutablePointer<Double>
    private static let capacity = 16

    init() {
        bx = .allocate(capacity: Self.capacity); by = .allocate(capacity: Self.capacity)
        cx = .allocate(capacity: Self.capacity); cy = .allocate(capacity: Self.capacity)
        sx = .allocate(capacity: Self.capacity); sy = .allocate(capacity: Self.capacity)
    }

    func deallocate() {
        for p in [bx, by, cx, cy, sx, sy] { p.deallocate() }
    }

    /// Adds the triangle (x0, y0), (x1, y1), (x2, y2) of image area `imageArea` (pixel² of the
    /// unlensed map) into `acc` (n × n, row-major). Parts outside the map are dropped.
    @inline(__always)
    func deposit(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double,
                 imageArea: Double, n: Int, into acc: UnsafeMutablePointer<Double>,
                 rowDifferences diff: UnsafeMutablePointer<Double>) {
        let nD = Double(n)
        let minX = min(x0, min(x1, x2)), maxX = max(x0, max(x1, x2))
        let minY = min(y0, min(y1, y2)), maxY = max(y0, max(y1, y2))
        guard maxX > 0, maxY > 0, minX < nD, minY < nD else { return }
        // Whole triangle inside one pixel (the common case where |μ| > 1): no clipping.
        let c0 = minX.rounded(.down), r0 = minY.rounded(.down)
        if maxX < c0 + 1, maxY < r0 + 1, c0 >= 0, r0 >= 0 {
            acc[Int(r0) * n + Int(c0)] += imageArea
            return
        }
        let area = 0.5 * abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0))
        guard area > 0 else {
            // Degenerate image (a fold through the triangle): all of it at the centroid.
            let gx = (x0 + x1 + x2) / 3, gy = (y0 + y1 + y2) / 3
            if gx >= 0, gx < nD, gy >= 0, gy < nD { acc[Int(gy) * n + Int(gx)] += imageArea }
            return
        }
        let weight = imageArea / area
        let rowFirst = max(0, Int(r0)), rowLast = min(n - 1, Int(maxY.rounded(.down)))
        guard rowFirst <= rowLast else { return }
        if maxX - minX > Self.exactSpan || maxY - minY > Self.exactSpan {
            spreadByRows(x0, y0, x1, y1, x2, y2, weight: weight, rows: rowFirst...rowLast, n: n, into: diff)
            return
        }
        for row in rowFirst...rowLast {
            // The triangle within the strip row ≤ y ≤ row + 1.
            bx[0] = x0; by[0] = y0; bx[1] = x1; by[1] = y1; bx[2] = x2; by[2] = y2
            var m = Self.clip(bx, by, 3, into: cx, cy, axisY: true, bound: Double(row), keepAbove: true)
            m = Self.clip(cx, cy, m, into: sx, sy, axisY: true, bound: Double(row + 1), keepAbove: false)
            guard m >= 3 else { continue }
            var lo = sx[0], hi = sx[0]
            for k in 1..<m { lo = min(lo, sx[k]); hi = max(hi, sx[k]) }
            let colFirst = max(0, Int(lo.rounded(.down))), colLast = min(n - 1, Int(hi.rounded(.down)))
            guard colFirst <= colLast else { continue }
            if colFirst == colLast && lo >= Double(colFirst) && hi <= Double(colFirst + 1) {
                acc[row * n + colFirst] += weight * Self.area(sx, sy, m)
                continue
            }
            for col in colFirst...colLast {
                var q = Self.clip(sx, sy, m, into: bx, by, axisY: false, bound: Double(col), keepAbove: true)
                q = Self.clip(bx, by, q, into: cx, cy, axisY: false, bound: Double(col + 1), keepAbove: false)
                if q >= 3 { acc[row * n + col] += weight * Self.area(cx, cy, q) }
            }
        }
    }

    /// Adds `weight` × (the triangle's width on the centre line of each row, within [0, n]) into
    /// the row's difference array: row r occupies diff[r·(n+1) ..< (r+1)·(n+1)], and pixel c of
    /// the row receives the prefix sum of entries 0…c (`integrate`).
    @inline(__always)
    func spreadByRows(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double,
                      weight: Double, rows: ClosedRange<Int>, n: Int, into diff: UnsafeMutablePointer<Double>) {
        let nD = Double(n)
        for row in rows {
            let yc = Double(row) + 0.5
            // Crossings of the centre line with the three edges.
            var lo = Double.infinity, hi = -Double.infinity
            @inline(__always) func edge(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) {
                guard (ay <= yc && by > yc) || (by <= yc && ay > yc) else { return }
                let x = ax + (yc - ay) / (by - ay) * (bx - ax)
                lo = min(lo, x); hi = max(hi, x)
            }
            edge(x0, y0, x1, y1); edge(x1, y1, x2, y2); edge(x2, y2, x0, y0)
            let a = max(lo, 0), b = min(hi, nD)
            guard a < b else { continue }
            let base = diff + row * (n + 1)
            let ca = Int(a), cb = min(Int(b), n - 1)
            if ca == cb {
                base[ca] += weight * (b - a)
                base[ca + 1] -= weight * (b - a)
            } else {
                let first = Double(ca + 1) - a, last = b - Double(cb)
                base[ca] += weight * first
                base[ca + 1] += weight * (1 - first)
                base[cb] += weight * (last - 1)
                base[cb + 1] -= weight * last
            }
        }
    }

    /// Adds the prefix sums of the row difference arrays into `acc` (n × n) and clears them.
    static func integrate(rowDifferences diff: UnsafeMutablePointer<Double>, n: Int, into acc: UnsafeMutablePointer<Double>) {
        for row in 0..<n {
            let base = diff + row * (n + 1)
            var running = 0.0
            for c in 0..<n {
                running += base[c]
                acc[row * n + c] += running
                base[c] = 0
            }
            base[n] = 0
        }
    }

    /// Sutherland–Hodgman: the part of the convex polygon (x, y)[0..<count] on one side of the
    /// line x = bound (axisY false) or y = bound (axisY true). Returns the output vertex count.
    @inline(__always)
    static func clip(_ x: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int,
                     into ox: UnsafeMutablePointer<Double>, _ oy: UnsafeMutablePointer<Double>,
                     axisY: Bool, bound: Double, keepAbove: Bool) -> Int {
        guard count > 0 else { return 0 }
        @inline(__always) func inside(_ k: Int) -> Bool {
            let c = axisY ? y[k] : x[k]
            return keepAbove ? c >= bound : c <= bound
        }
        var out = 0
        var prev = count - 1
        var prevIn = inside(prev)
        for k in 0..<count {
            let kIn = inside(k)
            if kIn != prevIn {
                // Crossing of the edge prev → k with the line.
                let cp = axisY ? y[prev] : x[prev], ck = axisY ? y[k] : x[k]
                let t = (bound - cp) / (ck - cp)
                if axisY {
                    ox[out] = x[prev] + t * (x[k] - x[prev]); oy[out] = bound
                } else {
                    ox[out] = bound; oy[out] = y[prev] + t * (y[k] - y[prev])
                }
                out += 1
            }
            if kIn { ox[out] = x[k]; oy[out] = y[k]; out += 1 }
            prev = k
            prevIn = kIn
        }
        return out
    }

    /// Area of a simple polygon (shoelace, absolute value).
    @inline(__always)
    static func area(_ x: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int) -> Double {
        var s = 0.0
        var prev = count - 1
        for k in 0..<count {
            s += x[prev] * y[k] - x[k] * y[prev]
            prev = k
        }
        return 0.5 * abs(s)
    }
}
