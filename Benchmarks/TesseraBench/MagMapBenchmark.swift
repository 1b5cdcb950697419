import Foundation
import Microlensing

/// The magnification-map benchmark of the lensing-tables issue: (κ, γ, s) = (0.45, 0.45, 0.5),
/// 25 Einstein radii, on one core. Reports wall time, rays per second, stars and the error of
/// the mean magnification against 1/|(1−κ)² − γ²|.
///
/// Reference, measured in the same run: the same star field with every ray deflected by direct
/// summation over all stars (timed on a sample of rays and scaled to the map's ray count) — the
/// cost of a plain ray shooter on this CPU.
enum MagMapBenchmark {
    static func run(pixels: Int, seeds: Int) {
        do {
            let result = try MagnificationMapBenchmark.run(pixels: pixels)
            print("magmap (0.45, 0.45, 0.5), 25 R_E, \(pixels)×\(pixels), 1 core: \(result)")
            print(String(format: "magmap: %.2f s total, %.3g rays/s, %d stars, mean error %+.3f%% (goal: <= 10 s and |error| <= 0.5%% at 1000²)",
                         result.seconds, result.raysPerSecond, result.stars, 100 * result.relativeError))

            // Reference: direct summation on a sample of rays from the same shooting region.
            let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
            let settings = MapSettings(sizeRE: 25, pixels: pixels)
            let shooter = try RayShooter(model: model, settings: settings)
            let sample = 20_000
            var xs: [Double] = [], ys: [Double] = []
            for i in 0..<sample {
                xs.append(shooter.originX + (Double(i % 200) + 0.5) * Double(shooter.raysX) / 200 * shooter.raySpacing)
                ys.append(shooter.originY + (Double(i / 200) + 0.5) * Double(shooter.raysY) / 100 * shooter.raySpacing)
            }
            let t0 = Date()
            let deflected = DirectDeflection.deflections(x: xs, y: ys, stars: shooter.stars)
            let directRate = Double(sample) / Date().timeIntervalSince(t0)
            let directSeconds = Double(result.rays) / directRate
            print(String(format: "reference: direct summation over %d stars: %.3g rays/s -> %.0f s for this map (checksum %.3g)",
                         shooter.stars.count, directRate, directSeconds, deflected.x.reduce(0, +)))
            print(String(format: "ratio: hierarchical shooting is %.0f× faster than direct summation (rays/s %.3g vs %.3g)",
                         result.raysPerSecond / directRate, result.raysPerSecond, directRate))

            // The mean of one map scatters with its star field; over several seeds it should match
            // theory. Same seeds with the pre-image mass fixed and the mean shear cancelled (the
            // default) and without (a plain uniform field).
            if seeds > 1 {
                for compensate in [true, false] {
                    var errors: [Double] = []
                    for seed in 1...seeds {
                        errors.append(try MagnificationMapBenchmark.run(pixels: pixels, seed: UInt64(seed),
                                                                        compensateMeanField: compensate).relativeError)
                    }
                    let mean = errors.reduce(0, +) / Double(seeds)
                    let rms = (errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(seeds - 1)).squareRoot()
                    print(String(format: "seeds 1...%d, %@: mean errors %@; ensemble %+.3f%% ± %.3f%% (single-map scatter %.2f%% rms)",
                                 seeds, compensate ? "mean field compensated (default)" : "uncompensated",
                                 errors.map { String(format: "%+.2f%%", 100 * $0) }.joined(separator: " "),
                                 100 * mean, 100 * rms / Double(seeds).squareRoot(), 100 * rms))
                }
            }
        } catch {
            print("magmap benchmark failed: \(error)")
            exit(1)
        }
    }
}
