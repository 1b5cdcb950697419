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
        stars.x.withUnsafeBufferPointer { sx in
            stars.y.withUnsafeBufferPointer { sy in
                stars.mass.withUnsafeBufferPointer { sm in
                    for i in 0..<sx.count {
                        let dx = x - sx[i], dy = y - sy[i]
                        let f = sm[i] / (dx * dx + dy * dy)
                        ax += f * dx
                        ay += f * dy
                    }
                }
            }
        }
        return (ax, ay)
    }

    /// α* at many points; returns (αx, αy) arrays matching `x`, `y`.
    public static func deflections(x: [Double], y: [Double], stars: StarField) -> (x: [Double], y: [Double]) {
        precondition(x.count == y.count, "x and y must have the same length")
        var ax = [Double](repeating: 0, count: x.count), ay = [Double](repeating: 0, count: x.count)
        let n = x.count
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                ax.withUnsafeMutableBufferPointer { oax in
                    ay.withUnsafeMutableBufferPointer { oay in
                        for s in 0..<stars.count {
                            let sx = stars.x[s], sy = stars.y[s], m = stars.mass[s]
                            for j in 0..<n {
                                let dx = px[j] - sx, dy = py[j] - sy
                                let f = m / (dx * dx + dy * dy)
                                oax[j] += f * dx
                                oay[j] += f * dy
                            }
                        }
                    }
                }
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
}
