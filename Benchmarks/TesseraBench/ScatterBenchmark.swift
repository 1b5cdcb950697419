import Foundation
import Microlensing

/// Map-to-map scatter of the mean magnification at (κ, γ, s) = (0.45, 0.45, 0.5), over seeds
/// 1…N, for plain uniform star fields and with the mean-field compensation (pre-image mass fixed,
/// mean shear cancelled; `MeanFieldCompensation`). Also the pooled distribution of
/// log10(μ/μ_th) of each, set against that of maps 4× larger with the same pixel size, whose
/// mean fluctuates less: the nearer-to-infinite-field distribution (CDF distance, with the
/// distance between the odd and even seeds as the noise level). And the scatter of the means of
/// windows of the map's size cut from those larger maps: the sample variance of a finite window
/// of a larger field, which no method removes.
///
///     tessera-bench scatter [PIXELS [SEEDS [SIZE_RE [REFERENCE_MAPS]]]]   (default 250 20 25 2)
enum ScatterBenchmark {
    static let bins = 160, lo = -2.0, hi = 2.0

    static func histogram(_ map: MagnificationMap, into h: inout [Double]) {
        let th = map.theoreticalMagnification
        for v in map.pixels {
            let x = log10(max(Double(v), 1e-6) / th)
            let b = Int(((x - lo) / (hi - lo) * Double(bins)).rounded(.down))
            h[min(max(b, 0), bins - 1)] += 1
        }
    }

    /// Means of the k×k square windows of a map.
    static func windowMeans(_ map: MagnificationMap, windows k: Int) -> [Double] {
        let n = map.width, w = n / k
        var out: [Double] = []
        for wy in 0..<k {
            for wx in 0..<k {
                var sum = 0.0
                for r in (wy * w)..<((wy + 1) * w) {
                    for c in (wx * w)..<((wx + 1) * w) { sum += Double(map.pixels[r * n + c]) }
                }
                out.append(sum / Double(w * w))
            }
        }
        return out
    }

    static func cdfDistance(_ a: [Double], _ b: [Double]) -> Double {
        let sa = a.reduce(0, +), sb = b.reduce(0, +)
        var ca = 0.0, cb = 0.0, d = 0.0
        for i in 0..<a.count { ca += a[i] / sa; cb += b[i] / sb; d = max(d, abs(ca - cb)) }
        return d
    }

    static func map(size: Double, pixels: Int, seed: UInt64, compensate: Bool) throws -> MagnificationMap {
        let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
        return try makeMagnificationMap(model: model, settings: MapSettings(sizeRE: size, pixels: pixels, seed: seed,
                                                                            compensateMeanField: compensate))
    }

    static func run(pixels: Int, seeds: Int, size: Double = 25, referenceScale: Int = 4, referenceSeeds: Int = 2) {
        do {
            var reference = [Double](repeating: 0, count: bins)
            var refErrors: [Double] = []
            var windowErrors: [Double] = []
            for seed in 1...max(referenceSeeds, 1) {
                let m = try map(size: size * Double(referenceScale), pixels: pixels * referenceScale,
                                seed: UInt64(1000 + seed), compensate: false)
                histogram(m, into: &reference)
                refErrors.append(m.relativeMeanError)
                windowErrors += windowMeans(m, windows: referenceScale).map { $0 / m.theoreticalMagnification - 1 }
            }
            let wm = windowErrors.reduce(0, +) / Double(windowErrors.count)
            let wrms = (windowErrors.map { ($0 - wm) * ($0 - wm) }.reduce(0, +) / Double(windowErrors.count - 1)).squareRoot()
            print(String(format: "reference windows of \(size) R_E: %d windows, scatter of their means %.3f%% rms", windowErrors.count, 100 * wrms))
            print("reference: \(referenceSeeds) uncompensated maps of \(size * Double(referenceScale)) R_E, mean errors "
                  + refErrors.map { String(format: "%+.3f%%", 100 * $0) }.joined(separator: " "))
            for (name, compensate) in [("uncompensated", false), ("compensated", true)] {
                var errors: [Double] = []
                var seconds = 0.0
                var hA = [Double](repeating: 0, count: bins), hB = hA
                for seed in 1...seeds {
                    let t0 = Date()
                    let m = try map(size: size, pixels: pixels, seed: UInt64(seed), compensate: compensate)
                    seconds += Date().timeIntervalSince(t0)
                    errors.append(m.relativeMeanError)
                    if seed % 2 == 0 { histogram(m, into: &hA) } else { histogram(m, into: &hB) }
                }
                let mean = errors.reduce(0, +) / Double(seeds)
                let rms = (errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(seeds - 1, 1))).squareRoot()
                let worst = errors.map(abs).max() ?? 0
                let within = errors.filter { abs($0) <= 0.005 }.count
                let pooled = zip(hA, hB).map { $0 + $1 }
                print(String(format: "%@: mean error %+.3f%% ± %.3f%%, scatter %.3f%% rms, worst %.3f%%, %d of %d maps within 0.5%%, %.2f s per map; CDF distance to reference %.4f, between seed halves %.4f",
                             name, 100 * mean, 100 * rms / Double(seeds).squareRoot(), 100 * rms, 100 * worst, within, seeds,
                             seconds / Double(seeds), cdfDistance(pooled, reference), cdfDistance(hA, hB)))
            }
        } catch {
            print("scatter benchmark failed: \(error)")
        }
    }
}
