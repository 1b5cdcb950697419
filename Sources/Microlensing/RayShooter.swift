// Kernel file: raw pointers on purpose. The ray loop (`forEachSourceRow`, `evaluateRow`) runs on
// preallocated row buffers through unchecked pointers, 8 rays per SIMD step: ray-shooting
// throughput (≈1e8 rays/s per core) depends on it. The buffers are allocated and freed in one
// place (`RowBuffers.with`); nothing outside this file sees them.

/// Inverse ray shooting (Kayser, Refsdal & Stabell 1986; Schneider & Weiss 1987) with the
/// hierarchical far/near deflection of Wambsganss (1990).
///
/// Rays lie on a regular grid of spacing d = 1/√(ray density) over the `ShootingRegion`,
/// anchored so that grid lines sit at ±h/|λx| + (i + ½)d (h = size/2): with κ = γ = 0 and k²
/// rays per pixel every unlensed pixel receives exactly k×k rays. Each ray is mapped with
///
///     y₁ = (1 − κ_s − γ) x₁ − α*₁(x),   y₂ = (1 − κ_s + γ) x₂ − α*₂(x)
///
/// (see `MacroModel` for the convention) and counted in the source pixel it lands in. The
/// magnification of a pixel is hits/(expected hits unlensed) = hits·d²/pixelArea.
///
/// Hot loop. The rectangle is tiled into cells of B×B rays (side L = B·d). Per cell, the far
/// field is one Taylor polynomial about the cell centre (`LocalExpansion`) and the near stars
/// are copied into small contiguous arrays. Per row of rays (fixed y₀) the polynomial is
/// Taylor-shifted to a polynomial in the real local x (O(p²) per row), so each ray costs p
/// real-times-complex Horner steps, a few divisions for the near stars and one binning step;
/// every inner loop runs over a contiguous row of rays without allocation.
///
/// Threads. `shoot(cellRows:into:)` shoots one band of cell rows into a caller-owned count
/// array, so bands can run on separate threads (the shooter is an immutable value) and their
/// counts be added (`addCounts`); `cellRows` is the number of bands available.
public struct RayShooter: Sendable {
    public let model: MacroModel
    public let geometry: MapGeometry
    public let region: ShootingRegion
    public let stars: StarField
    public let accuracy: DeflectionAccuracy
    public let rayDensity: RayDensity
    /// The star field's realised mean shear over the map's pre-image, cancelled in the lens
    /// equation (nil: none), see `MeanFieldCompensation`. `deflection(x:y:)` returns the stars'
    /// raw α*, without it.
    public let compensation: MeanFieldCompensation?
    /// Spacing of the ray grid in Einstein radii.
    public let raySpacing: Double
    /// Rays per side of the grid.
    public let raysX: Int, raysY: Int
    /// Coordinates of the lower-left corner of the ray grid (ray (i, j) is at origin + (i+½, j+½)d).
    public let originX: Double, originY: Double
    /// Rays per cell side, B.
    public let raysPerCellSide: Int
    /// Cells per side.
    public let cellColumns: Int, cellRows: Int

    let tree: MultipoleTree?
    let grid: CellGrid?
    let binomial: [Double]

    /// Most rays a single map may shoot.
    public static let maximumRays = 1e13

    /// Total rays shot.
    public var raysShot: Int { raysX * raysY }
    /// Cell side L in Einstein radii.
    public var cellSize: Double { Double(raysPerCellSide) * raySpacing }
    /// Expected hits of an unlensed pixel, pixelArea/d².
    public var raysPerPixelUnlensed: Double { geometry.pixelArea / (raySpacing * raySpacing) }
    /// θ* = max(θ, 1/(√2(n+½))): the worst expansion ratio, see `LocalExpansion`.
    public var effectiveOpeningAngle: Double {
        max(accuracy.openingAngle, 1 / (2.0.squareRoot() * (Double(accuracy.nearCells) + 0.5)))
    }
    /// ε(θ*, p): the far-field deflection error is at most this times A_far(z) = Σ_far m/|z − zᵢ|.
    public var relativeErrorFactor: Double {
        MultipoleTree.relativeErrorFactor(openingAngle: effectiveOpeningAngle, order: accuracy.order)
    }

    /// A shooter for `model` with a star field and region generated from `settings`.
    public init(model: MacroModel, settings: MapSettings) throws {
        let geometry = try MapGeometry(sizeRE: settings.sizeRE, pixels: settings.pixels)
        let region = try ShootingRegion(model: model, map: geometry, massFunction: settings.massFunction,
                                        lightLoss: settings.lightLoss)
        let preimage = StarField.Rectangle(halfWidthX: geometry.halfSize / abs(model.lambdaX),
                                           halfWidthY: geometry.halfSize / abs(model.lambdaY))
        let stars = try StarField(kappaStar: model.kappaStar, radius: region.starFieldRadius,
                                  massFunction: settings.massFunction, seed: settings.seed,
                                  conditionedOn: settings.compensateMeanField ? preimage : nil)
        let compensation = settings.compensateMeanField && stars.count > 0
            ? try MeanFieldCompensation(stars: stars, model: model, map: geometry) : nil
        try self.init(model: model, geometry: geometry, region: region, stars: stars,
                      rayDensity: settings.rayDensity, accuracy: settings.accuracy, compensation: compensation)
    }

    /// A shooter for explicit pieces (e.g. a hand-made star field). The lens equation uses the
    /// model's κ_s and γ only; the stars supply their own convergence, corrected by
    /// `compensation` when one is given.
    public init(model: MacroModel, geometry: MapGeometry, region: ShootingRegion, stars: StarField,
                rayDensity: RayDensity, accuracy: DeflectionAccuracy = DeflectionAccuracy(),
                compensation: MeanFieldCompensation? = nil) throws {
        try rayDensity.validate()
        try accuracy.validate()
        self.model = model
        self.compensation = compensation
        self.geometry = geometry
        self.region = region
        self.stars = stars
        self.accuracy = accuracy
        self.rayDensity = rayDensity
        let d = 1 / rayDensity.density(pixelArea: geometry.pixelArea).squareRoot()
        raySpacing = d
        // Anchor the grid on the macro pre-image of the map's edge (when inside the region).
        func axis(anchor: Double, half: Double) -> (origin: Double, count: Double) {
            let a = min(anchor, half)
            let m = max(0, ((half - a) / d - 1e-9).rounded(.up))
            let n = ((half + a) / d - 1e-9).rounded(.up) + m
            return (-a - m * d, max(1, n))
        }
        let ax = axis(anchor: geometry.halfSize / abs(model.lambdaX), half: region.halfWidthX)
        let ay = axis(anchor: geometry.halfSize / abs(model.lambdaY), half: region.halfWidthY)
        if ax.count * ay.count > Self.maximumRays {
            throw MicrolensingError.tooLarge(quantity: "rays", value: ax.count * ay.count, limit: Self.maximumRays)
        }
        raysX = Int(ax.count); raysY = Int(ay.count)
        originX = ax.origin; originY = ay.origin

        // Cell side from the star density: L = √(starsPerCell/n*), 8 ≤ B ≤ 4096.
        let b: Int
        if stars.count > 0 {
            let density = Double(stars.count) / (Double.pi * stars.radius * stars.radius)
            let l = (accuracy.starsPerCell / density).squareRoot()
            b = min(4096, max(8, Int((l / d).rounded())))
        } else {
            b = min(4096, max(8, max(raysX, raysY)))
        }
        raysPerCellSide = b
        cellColumns = (raysX + b - 1) / b
        cellRows = (raysY + b - 1) / b
        if stars.count > 0 {
            let t = try MultipoleTree(stars: stars, order: accuracy.order, leafSize: accuracy.leafSize)
            tree = t
            grid = CellGrid(tree: t, originX: originX, originY: originY, cellSize: Double(b) * d,
                            columns: cellColumns, rows: cellRows, near: accuracy.nearCells)
            binomial = MultipoleTree.binomialTable(order: accuracy.order)
        } else {
            tree = nil
            grid = nil
            binomial = []
        }
    }

    /// Adds `other` into `counts` (for combining bands shot on different threads).
    public static func addCounts(_ other: [UInt32], into counts: inout [UInt32]) {
        precondition(other.count == counts.count, "count arrays differ in size")
        for i in 0..<counts.count { counts[i] &+= other[i] }
    }

    /// Shoots every ray and returns the hit counts per pixel (row-major, `pixels`²).
    public func shoot() -> [UInt32] {
        var counts = [UInt32](repeating: 0, count: geometry.pixels * geometry.pixels)
        shoot(cellRows: 0..<cellRows, into: &counts)
        return counts
    }

    /// The map for all rays (shot on the calling thread).
    public func makeMap() -> MagnificationMap {
        var counts = [UInt32](repeating: 0, count: geometry.pixels * geometry.pixels)
        let bound = shoot(cellRows: 0..<cellRows, into: &counts)
        return makeMap(counts: counts, deflectionErrorBound: bound)
    }

    /// The map for hit counts accumulated over all cell rows; `deflectionErrorBound` is the
    /// largest value `shoot(cellRows:into:)` returned over the bands, if known.
    public func makeMap(counts: [UInt32], deflectionErrorBound: Double? = nil) -> MagnificationMap {
        precondition(counts.count == geometry.pixels * geometry.pixels, "counts must have pixels² entries")
        let scale = 1 / raysPerPixelUnlensed
        return map(pixels: counts.map { Float(Double($0) * scale) }, method: .rayShooting,
                   deflectionErrorBound: deflectionErrorBound)
    }

    /// A map of this shooter's model, geometry, stars and grid with the given magnifications.
    func map(pixels: [Float], method: MapMethod, deflectionErrorBound: Double?) -> MagnificationMap {
        MagnificationMap(geometry: geometry, pixels: pixels, model: model, starCount: stars.count, seed: stars.seed,
                         raysShot: raysShot, raysPerPixelUnlensed: raysPerPixelUnlensed,
                         deflectionErrorBound: deflectionErrorBound, compensation: compensation,
                         stars: stars, region: region, method: method)
    }

    /// Shoots the rays of cell rows `band` (a sub-range of 0..<cellRows), adding hits to `counts`.
    /// Returns the largest a-posteriori far-field deflection error bound over the band's cells
    /// (Einstein radii; see `LocalExpansion`).
    @discardableResult
    public func shoot(cellRows band: Range<Int>, into counts: inout [UInt32]) -> Double {
        precondition(counts.count == geometry.pixels * geometry.pixels, "counts must have pixels² entries")
        let n = geometry.pixels
        let nD = Double(n)
        return counts.withUnsafeMutableBufferPointer { cnt in
            forEachSourceRow(cellRows: band, corners: false) { _, count, u, v in
                for j in 0..<count {
                    let uj = u[j], vj = v[j]
                    if uj >= 0 && uj < nD && vj >= 0 && vj < nD {
                        cnt[Int(vj) * n + Int(uj)] &+= 1
                    }
                }
            }
        }
    }

    /// The cell loop shared by ray shooting and polygon mapping. For every cell of `band` it sets
    /// up the far-field expansion and near stars (`prepareCell`), then for each row of grid
    /// points evaluates conj(α*) (`evaluateRow`) and hands `row` the points' source positions in
    /// pixel units of the map (u along x, v along y; pixel (c, r) is [c, c+1] × [r, r+1]):
    /// - `corners: false`: the rays, at the centres of the grid squares, rows 0..<rowsHere with
    ///   colsHere points each;
    /// - `corners: true`: the squares' corners, rows 0...rowsHere with colsHere + 1 points each
    ///   (a corner on a cell edge is evaluated by both cells).
    /// `row` gets the row index within the cell (0 starts a new cell), the point count and the
    /// positions, valid until it returns. Returns the largest far-field error bound (Einstein radii).
    func forEachSourceRow(cellRows band: Range<Int>, corners: Bool,
                          _ row: (_ r: Int, _ count: Int, _ u: UnsafeMutablePointer<Double>, _ v: UnsafeMutablePointer<Double>) -> Void)
        -> Double {
        precondition(band.lowerBound >= 0 && band.upperBound <= cellRows, "band outside 0..<cellRows")
        let p = accuracy.order
        let b = raysPerCellSide
        let d = raySpacing
        let l = Double(b) * d
        let rCell = l * 0.5 * 2.0.squareRoot()
        let invPix = 1 / geometry.pixelSize
        let h = geometry.halfSize
        let (a1, a2) = model.smoothCoefficients
        let extra = corners ? 1 : 0
        let shift = corners ? 0.0 : 0.5

        let padded = Self.paddedRowLength(b + extra)
        return RowBuffers.with(rowLength: padded, order: p) { buf in
            // Offsets of the points from the cell centre along x.
            for j in 0..<padded {
                buf.wx[j] = (Double(min(j, b - 1 + extra)) + shift) * d - 0.5 * l
                buf.su[j] = a1 * buf.wx[j] * invPix
            }
            for k in 0...p { buf.cr[k] = 0; buf.ci[k] = 0 }
            var near = NearStars()
            var scratch = LocalExpansionScratch(order: p)
            var maxBound = 0.0

            for cy in band {
                let yc = originY + (Double(cy * b) + 0.5 * Double(b)) * d
                let rowsHere = min(b, raysY - cy * b) + extra
                for cxc in 0..<cellColumns {
                    let xc = originX + (Double(cxc * b) + 0.5 * Double(b)) * d
                    let count = min(b, raysX - cxc * b) + extra
                    maxBound = max(maxBound, prepareCell(cellX: cxc, cellY: cy, centerX: xc, centerY: yc, radius: rCell,
                                                         cr: buf.cr, ci: buf.ci, scratch: &scratch, near: &near))
                    let uBase = (a1 * xc + h) * invPix
                    for r in 0..<rowsHere {
                        let y0 = (Double(r) + shift) * d - 0.5 * l
                        near.withPointers { nx, ny, nm, nCount in
                            Self.evaluateRow(count: count, y0: y0, wx: buf.wx, order: p, cr: buf.cr, ci: buf.ci,
                                             shr: buf.shr, shi: buf.shi, nearX: nx, nearY: ny, nearM: nm, nearCount: nCount,
                                             fr: buf.fr, fi: buf.fi)
                        }
                        let vBase = (a2 * (yc + y0) + h) * invPix
                        for j in 0..<count {
                            buf.pu[j] = uBase + buf.su[j] - buf.fr[j] * invPix
                            buf.pv[j] = vBase + buf.fi[j] * invPix
                        }
                        row(r, count, buf.pu, buf.pv)
                    }
                }
            }
            return maxBound
        }
    }

    /// Sets up one cell: its far-field local expansion in `cr`, `ci` (with the compensation's
    /// shear), and its near stars. Returns the expansion's a-posteriori error bound (0 without
    /// stars, when the coefficients stay 0 and `near` empty).
    ///
    /// Lens equation y = C·x − (α* − Γ·x) with Γ the compensation's shear: it enters conj(α*)
    /// as the analytic term conj(γ)·z = conj(γ)·z_c + conj(γ)·w in a cell's local expansion.
    func prepareCell(cellX: Int, cellY: Int, centerX xc: Double, centerY yc: Double, radius: Double,
                     cr: UnsafeMutablePointer<Double>, ci: UnsafeMutablePointer<Double>,
                     scratch: inout LocalExpansionScratch, near: inout NearStars) -> Double {
        guard let tree, let grid else { return 0 }
        let bound = tree.farFieldExpansion(cellX: cellX, cellY: cellY, grid: grid, radius: radius,
                                           openingAngle: accuracy.openingAngle, binomial: binomial,
                                           cr: cr, ci: ci, scratch: &scratch)
        let g1 = compensation?.gamma1 ?? 0, g2 = compensation?.gamma2 ?? 0
        // − conj(γ)(z_c + w), conj(γ) = γ₁ − iγ₂.
        cr[0] -= g1 * xc + g2 * yc
        ci[0] -= g1 * yc - g2 * xc
        cr[1] -= g1; ci[1] += g2   // p ≥ 1 (DeflectionAccuracy.validate)
        near.gather(grid: grid, cellX: cellX, cellY: cellY, centerX: xc, centerY: yc)
        return bound
    }

    /// Row buffers hold a multiple of 8 values (the Horner loop works on 8 rays at a time).
    static func paddedRowLength(_ n: Int) -> Int { (n + 7) / 8 * 8 }

    /// conj(α*) = fr + i·fi at the rays (wx[j], y0), j < count, in cell-local coordinates: the
    /// far-field polynomial Σ c_l w^l (Taylor-shifted to a polynomial in x at fixed y₀) plus the
    /// near stars summed directly.
    @inline(__always)
    static func evaluateRow(count nx: Int, y0: Double, wx: UnsafePointer<Double>, order p: Int,
                            cr: UnsafePointer<Double>, ci: UnsafePointer<Double>,
                            shr: UnsafeMutablePointer<Double>, shi: UnsafeMutablePointer<Double>,
                            nearX: UnsafePointer<Double>, nearY: UnsafePointer<Double>, nearM: UnsafePointer<Double>,
                            nearCount: Int, fr: UnsafeMutablePointer<Double>, fi: UnsafeMutablePointer<Double>) {
        // Taylor shift by s = i·y₀: P(x + s) = Σ b_k x^k (Horner-type O(p²) shift).
        for k in 0...p { shr[k] = cr[k]; shi[k] = ci[k] }
        if y0 != 0 {
            for i in 0..<p {
                var j = p - 1
                while j >= i {
                    // b_j += (i y₀)·b_{j+1}
                    shr[j] -= y0 * shi[j + 1]
                    shi[j] += y0 * shr[j + 1]
                    j -= 1
                }
            }
        }
        // Horner in real x, eight rays at a time with the accumulators in registers (the row
        // buffers are padded to a multiple of 8).
        let topR = shr[p], topI = shi[p]
        var j = 0
        while j < nx {
            let x = SIMD8<Double>(UnsafeBufferPointer(start: wx + j, count: 8))
            var ar = SIMD8<Double>(repeating: topR), ai = SIMD8<Double>(repeating: topI)
            var k = p - 1
            while k >= 0 {
                ar = ar * x + SIMD8(repeating: shr[k])
                ai = ai * x + SIMD8(repeating: shi[k])
                k -= 1
            }
            UnsafeMutableRawPointer(fr + j).storeBytes(of: ar, as: SIMD8<Double>.self)
            UnsafeMutableRawPointer(fi + j).storeBytes(of: ai, as: SIMD8<Double>.self)
            j += 8
        }
        // Near stars: m/(w − wᵢ) = m·conj(w − wᵢ)/|w − wᵢ|².
        for s in 0..<nearCount {
            let sx = nearX[s], m = nearM[s]
            let dy = y0 - nearY[s]
            let dy2 = dy * dy, mdy = m * dy
            for j in 0..<nx {
                let dx = wx[j] - sx
                let inv = 1 / (dx * dx + dy2)
                fr[j] += m * dx * inv
                fi[j] -= mdy * inv
            }
        }
    }

    /// The hierarchical deflection α* at one image-plane point, as the ray loop computes it (far
    /// Taylor series of the point's cell + near stars direct), with the cell's a-posteriori
    /// far-field error bound. Meant for points of the ray grid; a point outside it is assigned to
    /// the nearest cell, whose expansion (and bound) holds only within that cell.
    public func deflection(x: Double, y: Double) -> (x: Double, y: Double, errorBound: Double) {
        guard let tree, let grid else { return (0, 0, 0) }
        let l = cellSize
        let cxc = min(max(Int(((x - originX) / l).rounded(.down)), 0), cellColumns - 1)
        let cyc = min(max(Int(((y - originY) / l).rounded(.down)), 0), cellRows - 1)
        let (xc, yc) = grid.center(cxc, cyc)
        let p = accuracy.order
        var scratch = LocalExpansionScratch(order: p)
        let (bound, cr, ci) = RowBuffers.with(rowLength: 0, order: p) { buf in
            let bound = tree.farFieldExpansion(cellX: cxc, cellY: cyc, grid: grid, radius: l * 0.5 * 2.0.squareRoot(),
                                               openingAngle: accuracy.openingAngle, binomial: binomial,
                                               cr: buf.cr, ci: buf.ci, scratch: &scratch)
            return (bound, Array(UnsafeBufferPointer(start: buf.cr, count: p + 1)),
                    Array(UnsafeBufferPointer(start: buf.ci, count: p + 1)))
        }
        let wr = x - xc, wi = y - yc
        var fr = cr[p], fi = ci[p]
        for k in stride(from: p - 1, through: 0, by: -1) {
            let t = fr * wr - fi * wi + cr[k]
            fi = fr * wi + fi * wr + ci[k]
            fr = t
        }
        var near = NearStars()
        near.gather(grid: grid, cellX: cxc, cellY: cyc, centerX: xc, centerY: yc)
        for s in 0..<near.count {
            let dx = wr - near.x[s], dy = wi - near.y[s]
            let inv = near.m[s] / (dx * dx + dy * dy)
            fr += dx * inv
            fi -= dy * inv
        }
        return (fr, -fi, bound)
    }

    /// conj(α*) along one row of rays of a cell, computed by exactly the ray loop's kernel
    /// (for tests): returns the rays' image-plane x, the row's y, and fr, fi.
    func rowDeflections(cellX: Int, cellY: Int, row: Int) -> (x: [Double], y: Double, fr: [Double], fi: [Double]) {
        let p = accuracy.order, b = raysPerCellSide, d = raySpacing, l = cellSize
        let xc = originX + (Double(cellX * b) + 0.5 * Double(b)) * d
        let yc = originY + (Double(cellY * b) + 0.5 * Double(b)) * d
        let cols = min(b, raysX - cellX * b)
        let y0 = (Double(row) + 0.5) * d - 0.5 * l
        var near = NearStars()
        var scratch = LocalExpansionScratch(order: p)
        return RowBuffers.with(rowLength: Self.paddedRowLength(b), order: p) { buf in
            for j in 0..<Self.paddedRowLength(b) { buf.wx[j] = (Double(min(j, b - 1)) + 0.5) * d - 0.5 * l }
            for k in 0...p { buf.cr[k] = 0; buf.ci[k] = 0 }
            if let tree, let grid {
                _ = tree.farFieldExpansion(cellX: cellX, cellY: cellY, grid: grid, radius: l * 0.5 * 2.0.squareRoot(),
                                           openingAngle: accuracy.openingAngle, binomial: binomial,
                                           cr: buf.cr, ci: buf.ci, scratch: &scratch)
                near.gather(grid: grid, cellX: cellX, cellY: cellY, centerX: xc, centerY: yc)
            }
            near.withPointers { nx, ny, nm, nCount in
                Self.evaluateRow(count: cols, y0: y0, wx: buf.wx, order: p, cr: buf.cr, ci: buf.ci, shr: buf.shr, shi: buf.shi,
                                 nearX: nx, nearY: ny, nearM: nm, nearCount: nCount, fr: buf.fr, fi: buf.fi)
            }
            func row(_ q: UnsafeMutablePointer<Double>) -> [Double] { Array(UnsafeBufferPointer(start: q, count: cols)) }
            return (row(buf.wx).map { xc + $0 }, yc + y0, row(buf.fr), row(buf.fi))
        }
    }
}

/// The scratch rows of the ray loop, allocated together and freed together: row buffers of
/// `rowLength` values (padded to a multiple of 8, `paddedRowLength`) for the points' local x
/// offsets (`wx`), their smooth-lens u terms (`su`), conj(α*) (`fr`, `fi`) and source positions
/// (`pu`, `pv`), and p + 1 coefficients of the cell's expansion (`cr`, `ci`) and of its Taylor
/// shift to a row (`shr`, `shi`). Uninitialised until written.
struct RowBuffers {
    let wx, su, fr, fi, pu, pv: UnsafeMutablePointer<Double>
    let cr, ci, shr, shi: UnsafeMutablePointer<Double>

    /// Runs `body` with fresh buffers, freed when it returns.
    @inline(__always)
    static func with<R>(rowLength: Int, order p: Int, _ body: (RowBuffers) throws -> R) rethrows -> R {
        let rows = (0..<6).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: max(rowLength, 1)) }
        let coefficients = (0..<4).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: p + 1) }
        defer { for q in rows + coefficients { q.deallocate() } }
        return try body(RowBuffers(wx: rows[0], su: rows[1], fr: rows[2], fi: rows[3], pu: rows[4], pv: rows[5],
                                   cr: coefficients[0], ci: coefficients[1], shr: coefficients[2], shi: coefficients[3]))
    }
}

/// The near stars of one cell in cell-local coordinates, in reusable contiguous arrays.
struct NearStars {
    /// Storage; only the first `count` entries are the cell's stars. Never empty, so the
    /// arrays always have storage for `withPointers` to hand out.
    var x: [Double], y: [Double], m: [Double]
    var count = 0

    init() {
        x = [Double](repeating: 0, count: 64); y = x; m = x
    }

    mutating func gather(grid: CellGrid, cellX: Int, cellY: Int, centerX: Double, centerY: Double) {
        count = 0
        let n = grid.near
        let pw = grid.paddedColumns
        for by in (cellY - n)...(cellY + n) {
            let row = (by + n) * pw
            // Buckets bx = cellX−n … cellX+n are contiguous: padded columns cellX … cellX+2n.
            let s = Int(grid.bucketStart[row + cellX]), e = Int(grid.bucketStart[row + cellX + 2 * n + 1])
            for k in s..<e {
                let lx = grid.bucketX[k] - centerX, ly = grid.bucketY[k] - centerY, lm = grid.bucketM[k]
                if count < x.count {
                    x[count] = lx; y[count] = ly; m[count] = lm
                } else {
                    x.append(lx); y.append(ly); m.append(lm)
                }
                count += 1
            }
        }
    }

    @inline(__always)
    func withPointers<R>(_ body: (UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>, Int) -> R) -> R {
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                m.withUnsafeBufferPointer { pm in
                    body(px.baseAddress!, py.baseAddress!, pm.baseAddress!, count)
                }
            }
        }
    }
}
