import Foundation
import LensingRuns
import Microlensing
import TesseraSupport

/// Queries per second of the magnification-table interpolator on a table of realistic size
/// (12 κ × 10 γ × 6 s cells, 2 source sizes, 100 bins), single thread.
///
/// Two figures: a full query (prepare the point from (κ, γ, s, size), then one density), which is
/// what a likelihood that moves in (κ, γ, s) pays per image, and a density at a prepared point,
/// what it pays per extra magnification at the same macro model. The reference, measured in the
/// same run, is the cost of one `log10` + `pow` pair per evaluation (the floor any table lookup pays).
enum InterpolatorBenchmark {
    static func run(evaluations: Int = 2_000_000) {
        let kappa = (0..<12).map { 0.05 + 0.08 * Double($0) }
        let gamma = (0..<10).map { 0.05 * Double($0) }
        let s = [0.0, 0.2, 0.4, 0.6, 0.8, 0.9]
        let sizes = [0.0, 0.5]
        let bins = 100
        var rng = RandomSource(seed: 3)
        var present: [Bool] = []
        var pdf: [Double] = []
        for k in kappa { for g in gamma { for _ in s {
            present.append(abs(abs(1 - k) - g) >= 0.02)
            for _ in sizes { for _ in 0..<bins { pdf.append(rng.uniform()) } }
        } } }
        let table = MagnificationTableInterpolator(
            kappaAxis: kappa, gammaAxis: gamma, sAxis: s, sourceSizes: sizes,
            logMuEdges: (0...bins).map { -2 + 4 * Double($0) / Double(bins) }, pdf: pdf, present: present, criticalMargin: 0.02)

        // Query points well inside the grid and away from the critical line.
        var points: [(Double, Double, Double, Double, Double)] = []
        while points.count < 4096 {
            let k = 0.1 + 0.7 * rng.uniform(), g = 0.05 + 0.35 * rng.uniform()
            if abs(abs(1 - k) - g) < 0.1 { continue }
            points.append((k, g, 0.85 * rng.uniform(), 0.5 * rng.uniform(), pow(10, 2 * rng.uniform() - 1)))
        }
        var checksum = 0.0
        var failures = 0
        let t0 = Date()
        for i in 0..<evaluations {
            let (k, g, f, z, mu) = points[i & 4095]
            do {
                checksum += try table.density(mu: mu * (1 / abs((1 - k) * (1 - k) - g * g)), kappa: k, gamma: g, s: f, sourceSize: z)
            } catch {
                failures += 1
            }
        }
        let full = Double(evaluations) / Date().timeIntervalSince(t0)

        let prepared = points.prefix(64).compactMap { try? table.point(kappa: $0.0, gamma: $0.1, s: $0.2, sourceSize: $0.3) }
        let t1 = Date()
        for i in 0..<evaluations {
            let p = prepared[i & 63]
            checksum += table.density(mu: p.theoryMagnification * points[i & 4095].4, at: p)
        }
        let atPoint = Double(evaluations) / Date().timeIntervalSince(t1)

        let t2 = Date()
        for i in 0..<evaluations { checksum += log10(points[i & 4095].4) + pow(10, points[i & 4095].2) }
        let floor = Double(evaluations) / Date().timeIntervalSince(t2)

        print(String(format: "interpolator: full query (κ, γ, s, size, μ): %.3g /s per core", full))
        print(String(format: "interpolator: density at a prepared point:   %.3g /s per core", atPoint))
        print(String(format: "reference:    log10 + pow only:              %.3g /s per core", floor))
        print(String(format: "ratios: full query / reference = %.3f, prepared / reference = %.3f", full / floor, atPoint / floor))
        print("goal: >= 1e6 PDF evaluations per second per core; \(failures) query failures; checksum \(checksum)")
    }
}
