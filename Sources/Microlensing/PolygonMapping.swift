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

    /// The map from magnification sums accumulated over all cell rows (bands added); the
    /// squares are mapped by `mapPolygons(cellRows:into:)` (in TriangleDeposit.swift, with the
    /// other pointer kernels of the method).
    public func makePolygonMap(sums: [Double], deflectionErrorBound: Double? = nil) -> MagnificationMap {
        precondition(sums.count == geometry.pixels * geometry.pixels, "sums must have pixels² entries")
        return map(pixels: sums.map { Float($0) }, method: .polygonMapping, deflectionErrorBound: deflectionErrorBound)
    }

    /// Adds `other` into `sums` (for combining bands mapped on different threads).
    public static func addSums(_ other: [Double], into sums: inout [Double]) {
        precondition(other.count == sums.count, "sum arrays differ in size")
        for i in 0..<sums.count { sums[i] += other[i] }
    }
}
