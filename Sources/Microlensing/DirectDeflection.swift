/// Exact star deflections by direct summation, the reference for the fast methods.
///
///     α*(x) = Σᵢ mᵢ (x − xᵢ)/|x − xᵢ|²,
///
/// in complex notation (z = x₁ + i x₂) conj(α*) = Σᵢ mᵢ/(z − zᵢ). Cost O(N) per point. The batch
/// routine loops over points in the inner loop (independent iterations over contiguous arrays,
/// which the compiler vectorises), stars in the outer loop.
public enum DirectDeflection {
    /// α* at one point. A point exactly on a star gives a non-finite result.
    public static func deflection(x: Double, y: Double, stars: StarField) -> (x: Double, y: Double) {
        var ax = 0.0, ay = 0.0
        let sx = stars.x.span, sy = stars.y.span, sm = stars.mass.span
        for i in 0..<sx.count {
            let dx = x - sx[i], dy = y - sy[i]
            let f = sm[i] / (dx * dx + dy * dy)
            ax += f * dx
            ay += f * dy
        }
        return (ax, ay)
    }

    /// α* at many points; returns (αx, αy) arrays matching `x`, `y`.
    public static func deflections(x: [Double], y: [Double], stars: StarField) -> (x: [Double], y: [Double]) {
        precondition(x.count == y.count, "x and y must have the same length")
        var ax = [Double](repeating: 0, count: x.count), ay = [Double](repeating: 0, count: x.count)
        let n = x.count
        let px = x.span, py = y.span
        var oax = ax.mutableSpan, oay = ay.mutableSpan
        for s in 0..<stars.count {
            let sx = stars.x[s], sy = stars.y[s], m = stars.mass[s]
            for j in 0..<n {
                let dx = px[j] - sx, dy = py[j] - sy
                let f = m / (dx * dx + dy * dy)
                oax[j] += f * dx
                oay[j] += f * dy
            }
        }
        return (ax, ay)
    }

    /// A(x) = Σᵢ mᵢ/|x − xᵢ|, the sum of the magnitudes of the individual deflections: the scale
    /// the error bounds of `MultipoleTree` and `RayShooter` are stated against.
    public static func absoluteSum(x: Double, y: Double, stars: StarField) -> Double {
        var a = 0.0
        for i in 0..<stars.count {
            let dx = x - stars.x[i], dy = y - stars.y[i]
            a += stars.mass[i] / (dx * dx + dy * dy).squareRoot()
        }
        return a
    }

    /// The mean magnification of `shooter`'s map computed independently of its tree, expansions
    /// and ray grid: rays on a square grid of spacing `spacing` (Einstein radii) centred on the
    /// shooting rectangle, deflected by direct summation over the same stars, through the same
    /// macro model and compensation; mean = (rays landing in the map) · spacing² / size². The
    /// reference for the numerical error of a map's mean, apart from its star field's sample
    /// variance. Cost: (rays) × (stars).
    public static func meanMagnification(of shooter: RayShooter, spacing: Double) -> (mean: Double, rays: Int, landed: Int) {
        let (a1, a2) = shooter.model.smoothCoefficients
        let g1 = shooter.compensation?.gamma1 ?? 0, g2 = shooter.compensation?.gamma2 ?? 0
        let h = shooter.geometry.halfSize
        let nx = Int((2 * shooter.region.halfWidthX / spacing).rounded(.up))
        let ny = Int((2 * shooter.region.halfWidthY / spacing).rounded(.up))
        let xs = (0..<nx).map { (Double($0) + 0.5 - 0.5 * Double(nx)) * spacing }
        var landed = 0
        for j in 0..<ny {
            let y = (Double(j) + 0.5 - 0.5 * Double(ny)) * spacing
            let alpha = deflections(x: xs, y: [Double](repeating: y, count: nx), stars: shooter.stars)
            for i in 0..<nx {
                let x = xs[i]
                let u = a1 * x - alpha.x[i] + g1 * x + g2 * y
                let v = a2 * y - alpha.y[i] + g2 * x - g1 * y
                if abs(u) < h && abs(v) < h { landed += 1 }
            }
        }
        return (Double(landed) * spacing * spacing / (shooter.geometry.sizeRE * shooter.geometry.sizeRE), nx * ny, landed)
    }
}
