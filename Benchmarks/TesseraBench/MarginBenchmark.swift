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
/// Cutting the field removes the tidal field of the outer stars, whose curvature over the
/// pre-image (half-length ℓ) changes the mean by ~ℓ²√κ*/(|λ|R³): that, unlike the margin,
/// changes single maps by per cents at the default radius.
///
///     tessera-bench margin [PIXELS [SEEDS [COMPENSATE [FIELD_RADIUS]]]]   (default 250 10 1, 612 θ_E)
enum MarginBenchmark {
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
                  + cutRadii.map { String(format: "%.0f", $0) }.joined(separator: ", "))
            var reference: [Double] = []
            var regionChanges = [[Double]](repeating: [], count: lightLosses.count - 1)
            var cutChanges = [[Double]](repeating: [], count: cutRadii.count)
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
                }
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
