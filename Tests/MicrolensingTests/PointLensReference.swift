@testable import Microlensing

/// One unit star at (0.01, 0.02) on a 6 θ_E, 30-pixel map, no shear or smooth matter, with a
/// 6 θ_E shooting half-width: the map `pointLensErrors` checks.
func singleStarShooter(raysPerPixel: Double) throws -> RayShooter {
    let star = try StarField(x: [0.01], y: [0.02], mass: [1], radius: 50)
    return try RayShooter(model: MacroModel(kappa: 0, gamma: 0), geometry: MapGeometry(sizeRE: 6, pixels: 30),
                          region: ShootingRegion(halfWidthX: 6, halfWidthY: 6, starFieldRadius: 50), stars: star,
                          rayDensity: .perSourcePixel(raysPerPixel))
}

/// Paczyński's point-lens magnification μ(u) = (u² + 2)/(u√(u² + 4)), averaged over each pixel of
/// a map of one unit star at (starX, starY) without shear or smooth matter, compared with the
/// map: relative errors of the pixels with u > `minimumU` (the cusp at u = 0 is not resolved by
/// the 8 × 8 sub-sampling).
func pointLensErrors(_ map: MagnificationMap, starX: Double, starY: Double, minimumU: Double = 0.5)
    -> (meanAbs: Double, worst: Double, errors: [(column: Int, row: Int, u: Double, error: Double)]) {
    let geo = map.geometry
    func paczynski(_ u: Double) -> Double { (u * u + 2) / (u * (u * u + 4).squareRoot()) }
    var errors: [(column: Int, row: Int, u: Double, error: Double)] = []
    for row in 0..<geo.pixels {
        for col in 0..<geo.pixels {
            var a = 0.0
            for i in 0..<8 {
                for j in 0..<8 {
                    let x = geo.pixelCenter(col) + (Double(j) + 0.5) / 8 * geo.pixelSize - geo.pixelSize / 2 - starX
                    let y = geo.pixelCenter(row) + (Double(i) + 0.5) / 8 * geo.pixelSize - geo.pixelSize / 2 - starY
                    a += paczynski((x * x + y * y).squareRoot())
                }
            }
            a /= 64
            let dx = geo.pixelCenter(col) - starX, dy = geo.pixelCenter(row) - starY
            let u = (dx * dx + dy * dy).squareRoot()
            guard u > minimumU else { continue }
            errors.append((col, row, u, Double(map[column: col, row: row]) / a - 1))
        }
    }
    let absolute = errors.map { abs($0.error) }
    return (absolute.reduce(0, +) / Double(max(1, absolute.count)), absolute.max() ?? 0, errors)
}
