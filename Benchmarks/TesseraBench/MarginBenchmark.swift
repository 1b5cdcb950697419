import Foundation
import Microlensing

/// Does a single map's mean move when the shooting region or the star field is widened? For
/// seeds 1…N at (κ, γ, s) = (0.45, 0.45, 0.5), 25 θ_E, one star field is drawn for the widest
/// region (light loss 10⁻⁴: source margin 47 θ_E, a 1199 × 120 θ_E shooting rectangle, field
/// radius 610 θ_E), and then
/// - the same stars are shot from the rectangles of light loss 10⁻², 10⁻³ and 10⁻⁴ (the default
///   is 10⁻²). The ray grid is anchored on the map's pre-image, so the rays the regions share
///   are the same rays and only the margin's rays differ;
/// - the same stars, cut to smaller disks (the default radius, half-diagonal + 10 θ_E, and
///   1.5, 2 and 3 half-diagonals), are shot from the default rectangle.
/// Each is compared with the whole field shot from the default rectangle.
///
/// A map whose mean missed theory because its shooting region was too narrow would move
/// towards theory as the region widens; it moves only by the light-loss bias, ≈ √(κ*ε)/size.
/// Cutting the field changes single maps' means by per cents, even between cuts at 520 and
/// 1200 θ_E. That is not a convergence error but the window's sample variance again: the
/// removed stars deflect every ray by nearly the same α₀ (rms 0.6 θ_E between 520 and 1200 θ_E,
/// 2κ*·ln(R₂/R₁) in variance), which translates the whole source-plane pattern, and so the
/// window, by α₀. The benchmark checks that: it also shoots the whole field over a padded map
/// (same stars, same compensation over the 25 θ_E pre-image) and predicts each cut map's mean
/// as the padded map's mean over the window shifted by −α₀, α₀ the removed stars' deflection
/// (fractional pixels weighted).
///
///     tessera-bench margin [PIXELS [SEEDS [COMPENSATE [FIELD_RADIUS]]]]   (default 250 10 1, 612 θ_E)
enum MarginBenchmark {
    /// Mean of `map` over the square of half-side `half` centred on (centreX, centreY) (Einstein
    /// radii, map centred on 0), edge pixels weighted by the fraction inside.
    static func windowMean(_ map: MagnificationMap, centreX: Double, centreY: Double, half: Double) -> Double {
        let n = map.width, p = map.geometry.pixelSize, h = map.geometry.halfSize
        func weights(_ c: Double) -> [Double] {
            (0..<n).map { k in
                let lo = -h + Double(k) * p
                return max(0, min(lo + p, c + half) - max(lo, c - half)) / p
            }
        }
        let wx = weights(centreX), wy = weights(centreY)
        var sum = 0.0, total = 0.0
        for r in 0..<n where wy[r] > 0 {
            for c in 0..<n where wx[c] > 0 {
                sum += wy[r] * wx[c] * Double(map.pixels[r * n + c])
                total += wy[r] * wx[c]
            }
        }
        return sum / total
    }

    static let lightLosses = [0.01, 0.001, 0.0001]
    /// Field radii as multiples of the default rectangle's half-diagonal (nil: the default radius).
    static let radii: [Double?] = [nil, 1.5, 2, 3]

    static func run(pixels: Int, seeds: Int, compensate: Bool, fieldRadius: Double? = nil) {
        do {
            let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
            let geometry = try MapGeometry(sizeRE: 25, pixels: pixels)
            let regions = try lightLosses.map { try ShootingRegion(model: model, map: geometry, lightLoss: $0) }
            let preimage = StarField.Rectangle(halfWidthX: geometry.halfSize / abs(model.lambdaX),
                                               halfWidthY: geometry.halfSize / abs(model.lambdaY))
            let density = RayDensity.perSourcePixel(MapSettings.defaultRaysPerPixel)
            let hd = regions[0].halfDiagonal
            let cutRadii = radii.map { $0.map { $0 * hd } ?? regions[0].starFieldRadius }
            let wideRadius = fieldRadius ?? regions.last!.starFieldRadius
            print("margin: (0.45, 0.45, 0.5), 25 R_E, \(pixels)² pixels, compensation \(compensate ? "on" : "off"); "
                  + "shooting regions " + regions.map { String(format: "%.0f×%.0f", 2 * $0.halfWidthX, 2 * $0.halfWidthY) }
                    .joined(separator: ", ") + " R_E for light loss " + lightLosses.map { "\($0)" }.joined(separator: ", ")
                  + String(format: "; field radius %.0f R_E, cut to ", wideRadius)
                  + cutRadii.map { String(format: "%.0f", $0) }.joined(separator: ", ") + " R_E")
            print("seed | mean − μ_th [%], whole field, default region | change [%] with light loss "
                  + lightLosses.dropFirst().map { "\($0)" }.joined(separator: ", ") + " | change [%] with the field cut to R = "
                  + cutRadii.map { String(format: "%.0f", $0) }.joined(separator: ", ")
                  + " | predicted from the shift")
            var reference: [Double] = []
            var regionChanges = [[Double]](repeating: [], count: lightLosses.count - 1)
            var cutChanges = [[Double]](repeating: [], count: cutRadii.count)
            var residuals = [[Double]](repeating: [], count: cutRadii.count)
            var shifts = [[Double]](repeating: [], count: cutRadii.count)
            let pad = 3.0
            let padded = try MapGeometry(sizeRE: geometry.sizeRE + 2 * pad,
                                         pixels: geometry.pixels + 2 * Int((pad / geometry.pixelSize).rounded()))
            let paddedRegion = try ShootingRegion(model: model, map: padded, lightLoss: lightLosses[0])
            let clock = ContinuousClock()
            let t0 = clock.now
            // Pooled histograms of log10(μ/μ_th): whole field (odd and even seeds apart, for the
            // noise level) and each cut field, all from the default region.
            let bins = ScatterBenchmark.bins
            var wholeHistograms = [[Double]](repeating: [Double](repeating: 0, count: bins), count: 2)
            var cutHistograms = [[Double]](repeating: [Double](repeating: 0, count: bins), count: cutRadii.count)
            func map(_ stars: StarField, _ region: ShootingRegion) throws -> MagnificationMap {
                let comp = compensate ? try MeanFieldCompensation(stars: stars, model: model, map: geometry) : nil
                return try RayShooter(model: model, geometry: geometry, region: region, stars: stars, rayDensity: density,
                                      compensation: comp).makeMap()
            }
            func mean(_ stars: StarField, _ region: ShootingRegion) throws -> Double {
                try map(stars, region).relativeMeanError
            }
            for seed in 1...max(1, seeds) {
                let wide = try StarField(kappaStar: model.kappaStar, radius: wideRadius, seed: UInt64(seed),
                                         conditionedOn: compensate ? preimage : nil)
                let baseMap = try map(wide, regions[0])
                ScatterBenchmark.histogram(baseMap, into: &wholeHistograms[seed % 2])
                let base = baseMap.relativeMeanError
                reference.append(base)
                var line = String(format: "%4d | %+7.3f |", seed, 100 * base)
                var predicted: [(Int, Double, Double, Double)] = []
                for (i, region) in regions.dropFirst().enumerated() {
                    let change = try mean(wide, region) - base
                    regionChanges[i].append(change)
                    line += String(format: " %+6.3f", 100 * change)
                }
                line += " |"
                for (i, r) in cutRadii.enumerated() {
                    let keep = wide.x.indices.filter { wide.x[$0] * wide.x[$0] + wide.y[$0] * wide.y[$0] < r * r }
                    let cut = try StarField(x: keep.map { wide.x[$0] }, y: keep.map { wide.y[$0] },
                                            mass: keep.map { wide.mass[$0] }, radius: r)
                    let cutMap = try map(cut, regions[0])
                    ScatterBenchmark.histogram(cutMap, into: &cutHistograms[i])
                    let change = cutMap.relativeMeanError - base
                    cutChanges[i].append(change)
                    line += String(format: " %+6.3f", 100 * change)
                    // α₀: the removed stars' deflection at the centre. With them, every ray lands
                    // α₀ further off, y_whole = y_cut − α₀, so the cut map's window W sees the
                    // whole field's pattern through W − α₀.
                    var ax = 0.0, ay = 0.0
                    for j in wide.x.indices where wide.x[j] * wide.x[j] + wide.y[j] * wide.y[j] >= r * r {
                        let dx = -wide.x[j], dy = -wide.y[j], w = wide.mass[j] / (dx * dx + dy * dy)
                        ax += w * dx; ay += w * dy
                    }
                    shifts[i].append((ax * ax + ay * ay).squareRoot())
                    predicted.append((i, -ax, -ay, change))
                }
                // The whole field over the padded map, compensated over the 25 θ_E pre-image.
                let comp = compensate ? try MeanFieldCompensation(stars: wide, halfWidthX: preimage.halfWidthX,
                                                                   halfWidthY: preimage.halfWidthY) : nil
                let big = try RayShooter(model: model, geometry: padded, region: paddedRegion, stars: wide,
                                         rayDensity: density, compensation: comp).makeMap()
                let centre = windowMean(big, centreX: 0, centreY: 0, half: geometry.halfSize)
                line += " | pred."
                for (i, sx, sy, change) in predicted {
                    let shifted = windowMean(big, centreX: sx, centreY: sy, half: geometry.halfSize)
                    let prediction = shifted / centre - 1
                    residuals[i].append(change - prediction)
                    line += String(format: " %+6.3f", 100 * prediction)
                }
                predicted.removeAll()
                print(line)
            }
            func rms(_ v: [Double]) -> Double { (v.map { $0 * $0 }.reduce(0, +) / Double(v.count)).squareRoot() }
            func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
            print(String(format: "  whole field, default region: map means %+.3f%% on average, %.3f%% rms", 100 * mean(reference),
                         100 * rms(reference)))
            for (loss, c) in zip(lightLosses.dropFirst(), regionChanges) {
                let expected = ((model.kappaStar * lightLosses[0]).squareRoot() - (model.kappaStar * loss).squareRoot()) / geometry.sizeRE
                print(String(format: "  light loss %g: mean changes by %+.3f%% on average, %.3f%% rms (expected light-loss gain %+.3f%%)",
                             loss, 100 * mean(c), 100 * rms(c), 100 * expected))
            }
            let whole = zip(wholeHistograms[0], wholeHistograms[1]).map { $0 + $1 }
            for (i, (r, c)) in zip(cutRadii, cutChanges).enumerated() {
                print(String(format: "  field cut to R = %.0f R_E (%.2f half-diagonals): mean changes by %+.3f%% on average, %.3f%% rms, "
                             + "largest %.3f%%; CDF distance of pooled log10(μ/μ_th) to the whole field's %.4f",
                             r, r / hd, 100 * mean(c), 100 * rms(c), 100 * (c.map(abs).max() ?? 0),
                             ScatterBenchmark.cdfDistance(cutHistograms[i], whole)))
                print(String(format: "      the removed stars' deflection |α₀| is %.2f R_E rms; the whole field's map over the window "
                             + "shifted by α₀ predicts the change to %.3f%% rms (largest %.3f%%)",
                             rms(shifts[i]), 100 * rms(residuals[i]), 100 * (residuals[i].map(abs).max() ?? 0)))
            }
            print(String(format: "  noise level: CDF distance between the whole field's odd and even seeds %.4f",
                         ScatterBenchmark.cdfDistance(wholeHistograms[0], wholeHistograms[1])))
            print(String(format: "  %.1f s", Double((clock.now - t0).components.seconds)))
        } catch {
            print("margin: \(error)")
            exit(1)
        }
    }
}
