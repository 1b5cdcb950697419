// Kernel file: raw pointers on purpose. Inverse polygon mapping deposits two triangles per grid
// square into the map through unchecked pointers to the sums, the row-difference array and small
// reusable polygon buffers: polygon-mapping throughput (as fast as ray shooting per grid point)
// depends on it. All of them are allocated and freed here (`mapPolygons`, `TriangleDeposit`).

/// Spreads the image-plane area of one lattice triangle over the source-plane pixels its image
/// overlaps, in proportion to the overlap: the kernel of inverse polygon mapping (Mediavilla et
/// al. 2006, ApJ 653, 942). Coordinates are in pixel units of the map: pixel (column c, row r)
/// is the unit square [c, c+1] × [r, r+1], and the map is [0, n]².
///
/// A triangle of image area a whose image has area A deposits a·(overlap with the pixel)/A into
/// each pixel, so that a pixel's total is the image-plane area that maps into it per unit
/// source area: its magnification, exactly for a lens mapping that is linear on every triangle.
/// The overlaps come from cutting the triangle along the pixel lines that cross it: a row strip
/// at a time is split off (one Sutherland–Hodgman pass yields both sides of a line), then the
/// strip a pixel at a time, so a triangle over k pixel lines costs k passes over convex polygons
/// of at most 7 vertices.
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

    /// One polygon's vertex buffers.
    struct Polygon {
        let x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>
        static let capacity = 16
        init() { x = .allocate(capacity: Self.capacity); y = .allocate(capacity: Self.capacity) }
        func deallocate() { x.deallocate(); y.deallocate() }
    }

    /// The rest of the triangle above the current row (two, used in turn), the current row's
    /// strip, a second buffer for the rest of the strip right of the current pixel (used in turn
    /// with the strip's own), and the current piece.
    private let rest = (Polygon(), Polygon()), strip = Polygon(), stripRest = Polygon(), piece = Polygon()

    func deallocate() {
        for p in [rest.0, rest.1, strip, stripRest, piece] { p.deallocate() }
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
        var (above, spare) = rest
        above.x[0] = x0; above.y[0] = y0; above.x[1] = x1; above.y[1] = y1; above.x[2] = x2; above.y[2] = y2
        var m = 3
        if minY < Double(rowFirst) {   // drop the part below the map
            m = Self.split(above, m, axisY: true, at: Double(rowFirst), below: nil, above: spare).above
            swap(&above, &spare)
        }
        for row in rowFirst...rowLast where m >= 3 {
            // This row's strip; the rest goes on to the next row. In the last row the rest is the
            // strip itself, and its buffer is free to be cut up.
            var k = m
            var right = strip
            if row < rowLast || maxY > Double(row + 1) {
                let parts = Self.split(above, m, axisY: true, at: Double(row + 1), below: strip, above: spare)
                swap(&above, &spare)
                (k, m) = (parts.below, parts.above)
            } else {
                right = above
                m = 0
            }
            guard k >= 3 else { continue }
            var lo = right.x[0], hi = right.x[0]
            for i in 1..<k { lo = min(lo, right.x[i]); hi = max(hi, right.x[i]) }
            let colFirst = max(0, Int(lo.rounded(.down))), colLast = min(n - 1, Int(hi.rounded(.down)))
            guard colFirst <= colLast else { continue }
            var other = stripRest
            if lo < Double(colFirst) {
                k = Self.split(right, k, axisY: false, at: Double(colFirst), below: nil, above: other).above
                swap(&right, &other)
            }
            for col in colFirst...colLast where k >= 3 {
                if col < colLast || hi > Double(col + 1) {
                    let parts = Self.split(right, k, axisY: false, at: Double(col + 1), below: piece, above: other)
                    swap(&right, &other)
                    if parts.below >= 3 { acc[row * n + col] += weight * Self.area(piece, parts.below) }
                    k = parts.above
                } else {
                    acc[row * n + col] += weight * Self.area(right, k)
                    k = 0
                }
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

    /// Sutherland–Hodgman in one pass for both sides of the line x = bound (axisY false) or
    /// y = bound (axisY true): the convex polygon's part with coordinate ≤ bound goes to `below`
    /// (when given), the part ≥ bound to `above`; a vertex on the line goes to both. Returns the
    /// two vertex counts.
    @inline(__always)
    static func split(_ p: Polygon, _ count: Int, axisY: Bool, at bound: Double, below: Polygon?, above: Polygon)
        -> (below: Int, above: Int) {
        var nb = 0, na = 0
        guard count > 0 else { return (0, 0) }
        var prev = count - 1
        var cp = axisY ? p.y[prev] : p.x[prev]
        for k in 0..<count {
            let ck = axisY ? p.y[k] : p.x[k]
            if (cp < bound && ck > bound) || (cp > bound && ck < bound) {
                let t = (bound - cp) / (ck - cp)
                let ix = axisY ? p.x[prev] + t * (p.x[k] - p.x[prev]) : bound
                let iy = axisY ? bound : p.y[prev] + t * (p.y[k] - p.y[prev])
                if let below { below.x[nb] = ix; below.y[nb] = iy }
                nb += 1
                above.x[na] = ix; above.y[na] = iy; na += 1
            }
            if ck <= bound {
                if let below { below.x[nb] = p.x[k]; below.y[nb] = p.y[k] }
                nb += 1
            }
            if ck >= bound { above.x[na] = p.x[k]; above.y[na] = p.y[k]; na += 1 }
            prev = k
            cp = ck
        }
        return (nb, na)
    }

    /// Area of a simple polygon (shoelace, absolute value).
    @inline(__always)
    static func area(_ p: Polygon, _ count: Int) -> Double {
        var s = 0.0
        var prev = count - 1
        for k in 0..<count {
            s += p.x[prev] * p.y[k] - p.x[k] * p.y[prev]
            prev = k
        }
        return 0.5 * abs(s)
    }
}

extension RayShooter {
    /// Maps the lattice squares of cell rows `band` and adds their magnification into `sums`
    /// (row-major, pixels²). Each cell evaluates its (B+1)² corner points with its own
    /// expansion; a corner shared with a neighbouring cell is evaluated by both, and the two
    /// differ by at most the far-field error bound (returned, Einstein radii).
    @discardableResult
    public func mapPolygons(cellRows band: Range<Int>, into sums: inout [Double]) -> Double {
        precondition(sums.count == geometry.pixels * geometry.pixels, "sums must have pixels² entries")
        let n = geometry.pixels
        // Image area of one triangle (half a grid square) in unlensed pixels².
        let scale = raySpacing / geometry.pixelSize
        let triangleArea = 0.5 * scale * scale
        let capacity = Self.paddedRowLength(raysPerCellSide + 1)
        let prevU = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
        let prevV = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
        let deposit = TriangleDeposit()
        let rowDifferences = UnsafeMutablePointer<Double>.allocate(capacity: n * (n + 1))
        rowDifferences.initialize(repeating: 0, count: n * (n + 1))
        defer {
            for q in [prevU, prevV, rowDifferences] { q.deallocate() }
            deposit.deallocate()
        }
        return sums.withUnsafeMutableBufferPointer { acc in
            let out = acc.baseAddress!
            let bound = forEachSourceRow(cellRows: band, corners: true) { r, count, u, v in
                if r > 0 {
                    // Square (j, r−1)…(j+1, r): triangles A B C and A C D with
                    // A = (j, r−1), B = (j+1, r−1), C = (j+1, r), D = (j, r).
                    for j in 0..<(count - 1) {
                        deposit.deposit(prevU[j], prevV[j], prevU[j + 1], prevV[j + 1], u[j + 1], v[j + 1],
                                        imageArea: triangleArea, n: n, into: out, rowDifferences: rowDifferences)
                        deposit.deposit(prevU[j], prevV[j], u[j + 1], v[j + 1], u[j], v[j],
                                        imageArea: triangleArea, n: n, into: out, rowDifferences: rowDifferences)
                    }
                }
                prevU.update(from: u, count: count)
                prevV.update(from: v, count: count)
            }
            TriangleDeposit.integrate(rowDifferences: rowDifferences, n: n, into: out)
            return bound
        }
    }
}
