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
    /// to stars.
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
        return MagnificationMap(geometry: geometry, pixels: sums.map { Float($0) }, model: model, starCount: stars.count,
                                seed: stars.seed, raysShot: raysShot, raysPerPixelUnlensed: raysPerPixelUnlensed,
                                deflectionErrorBound: deflectionErrorBound, compensation: compensation,
                                stars: stars, region: region, method: .polygonMapping)
    }

    /// Maps the lattice squares of cell rows `band` and adds their magnification into `sums`
    /// (row-major, pixels²). Each cell evaluates its (B+1)² corner points with its own
    /// expansion; a corner shared with a neighbouring cell is evaluated by both, and the two
    /// differ by at most the far-field error bound (returned, Einstein radii).
    @discardableResult
    public func mapPolygons(cellRows band: Range<Int>, into sums: inout [Double]) -> Double {
        precondition(sums.count == geometry.pixels * geometry.pixels, "sums must have pixels² entries")
        precondition(band.lowerBound >= 0 && band.upperBound <= cellRows, "band outside 0..<cellRows")
        let p = accuracy.order
        let b = raysPerCellSide
        let d = raySpacing
        let l = Double(b) * d
        let rCell = l * 0.5 * 2.0.squareRoot()
        let n = geometry.pixels
        let invPix = 1 / geometry.pixelSize
        let h = geometry.halfSize
        let (a1, a2) = model.smoothCoefficients
        // Image area of one triangle (half a lattice square) in unlensed pixels².
        let triangleArea = 0.5 * (d * invPix) * (d * invPix)

        let padded = Self.paddedRowLength(b + 1)
        let wx = UnsafeMutablePointer<Double>.allocate(capacity: padded)
        let su = UnsafeMutablePointer<Double>.allocate(capacity: padded)
        let fr = UnsafeMutablePointer<Double>.allocate(capacity: padded)
        let fi = UnsafeMutablePointer<Double>.allocate(capacity: padded)
        let pu = UnsafeMutablePointer<Double>.allocate(capacity: padded)
        let pv = UnsafeMutablePointer<Double>.allocate(capacity: padded)
        let cu = UnsafeMutablePointer<Double>.allocate(capacity: padded)
        let cv = UnsafeMutablePointer<Double>.allocate(capacity: padded)
        let cr = UnsafeMutablePointer<Double>.allocate(capacity: p + 1)
        let ci = UnsafeMutablePointer<Double>.allocate(capacity: p + 1)
        let shr = UnsafeMutablePointer<Double>.allocate(capacity: p + 1)
        let shi = UnsafeMutablePointer<Double>.allocate(capacity: p + 1)
        let deposit = TriangleDeposit()
        let rowDifferences = UnsafeMutablePointer<Double>.allocate(capacity: n * (n + 1))
        rowDifferences.initialize(repeating: 0, count: n * (n + 1))
        defer {
            for q in [wx, su, fr, fi, pu, pv, cu, cv, cr, ci, shr, shi, rowDifferences] { q.deallocate() }
            deposit.deallocate()
        }
        // Corner offsets from the cell centre: j·d − L/2, j = 0…B.
        for j in 0..<padded {
            wx[j] = Double(min(j, b)) * d - 0.5 * l
            su[j] = a1 * wx[j] * invPix
        }
        for k in 0...p { cr[k] = 0; ci[k] = 0 }
        var near = NearStars()
        var scratch = LocalExpansionScratch(order: p)
        var maxBound = 0.0

        sums.withUnsafeMutableBufferPointer { acc in
            let out = acc.baseAddress!
            for cy in band {
                let yc = originY + (Double(cy * b) + 0.5 * Double(b)) * d
                let rowsHere = min(b, raysY - cy * b)
                for cxc in 0..<cellColumns {
                    let xc = originX + (Double(cxc * b) + 0.5 * Double(b)) * d
                    let colsHere = min(b, raysX - cxc * b)
                    maxBound = max(maxBound, prepareCell(cellX: cxc, cellY: cy, centerX: xc, centerY: yc, radius: rCell,
                                                         cr: cr, ci: ci, scratch: &scratch, near: &near))
                    let uBase = (a1 * xc + h) * invPix
                    var (prevU, prevV, curU, curV) = (pu, pv, cu, cv)
                    for r in 0...rowsHere {
                        let y0 = Double(r) * d - 0.5 * l
                        near.withPointers { nx, ny, nm, nCount in
                            Self.evaluateRow(count: colsHere + 1, y0: y0, wx: wx, order: p, cr: cr, ci: ci,
                                             shr: shr, shi: shi, nearX: nx, nearY: ny, nearM: nm, nearCount: nCount,
                                             fr: fr, fi: fi)
                        }
                        let vBase = (a2 * (yc + y0) + h) * invPix
                        for j in 0...colsHere {
                            curU[j] = uBase + su[j] - fr[j] * invPix
                            curV[j] = vBase + fi[j] * invPix
                        }
                        if r > 0 {
                            // Square (j, r−1)…(j+1, r): triangles A B C and A C D with
                            // A = (j, r−1), B = (j+1, r−1), C = (j+1, r), D = (j, r).
                            for j in 0..<colsHere {
                                deposit.deposit(prevU[j], prevV[j], prevU[j + 1], prevV[j + 1], curU[j + 1], curV[j + 1],
                                                imageArea: triangleArea, n: n, into: out, rowDifferences: rowDifferences)
                                deposit.deposit(prevU[j], prevV[j], curU[j + 1], curV[j + 1], curU[j], curV[j],
                                                imageArea: triangleArea, n: n, into: out, rowDifferences: rowDifferences)
                            }
                        }
                        swap(&prevU, &curU)
                        swap(&prevV, &curV)
                    }
                }
            }
            TriangleDeposit.integrate(rowDifferences: rowDifferences, n: n, into: out)
        }
        return maxBound
    }

    /// Adds `other` into `sums` (for combining bands mapped on different threads).
    public static func addSums(_ other: [Double], into sums: inout [Double]) {
        precondition(other.count == sums.count, "sum arrays differ in size")
        for i in 0..<sums.count { sums[i] += other[i] }
    }
}
