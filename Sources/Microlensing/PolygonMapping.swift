/// How a map turns the lens mapping into magnification.
public enum MapMethod: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
    /// Inverse ray shooting: rays at the centres of an image-plane grid, each counted in the
    /// pixel it lands in; μ = hits / hits expected unlensed. Poisson-like noise ≈ 1/√(n·μ) per
    /// pixel for n rays per unlensed pixel (16 by default).
    case rayShooting = "irs"
    /// Inverse polygon mapping (Mediavilla et al. 2006): the corners of the same grid are
    /// mapped, each grid square is split into two triangles, and each triangle's image-plane
    /// area is spread over the pixels its image overlaps (`TriangleDeposit`). Exact where the
    /// lens mapping is linear across a triangle, so it needs about one grid square per unlensed
    /// pixel instead of many rays; errors remain only in triangles cut by critical curves or next
    /// to stars. Memory: 16 bytes per pixel per thread (sums and row differences in Double),
    /// against 4 for ray counts (2 GB resident for a 10000² map on one thread).
    case polygonMapping = "ipm"
}

extension RayShooter {
    /// The map by inverse polygon mapping over the same lattice the rays would use (its corners
    /// at the cell edges), on the calling thread.
    public func makePolygonMap() -> MagnificationMap {
        var sums = [Double](repeating: 0, count: geometry.pixels * geometry.pixels)
        let bound = mapPolygons(cellRows: 0..<cellRows, into: &sums)
        return makePolygonMap(sums: sums, deflectionErrorBound: bound)
    }

    /// The map from magnification sums accumulated over all cell rows (bands added).
    public func makePolygonMap(sums: [Double], deflectionErrorBound: Double? = nil) -> MagnificationMap {
        precondition(sums.count == geometry.pixels * geometry.pixels, "sums must have pixels² entries")
        return map(pixels: sums.map { Float($0) }, method: .polygonMapping, deflectionErrorBound: deflectionErrorBound)
    }

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

    /// Adds `other` into `sums` (for combining bands mapped on different threads).
    public static func addSums(_ other: [Double], into sums: inout [Double]) {
        precondition(other.count == sums.count, "sum arrays differ in size")
        for i in 0..<sums.count { sums[i] += other[i] }
    }
}
