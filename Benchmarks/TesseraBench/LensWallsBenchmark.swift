import Foundation
import HaloProfiles
import Inference
import LensInference
import LensingRuns
import TesseraSupport

/// What the stage-1 chains run into (issue 17: most lenses' chains have a third or more of their transitions
/// divergent). For every lens of a finished `tessera infer` run: its divergent fraction, and at points a fraction
/// `SCALE` of a posterior sd from its draws (each coordinate's own sd; 5 points per 8th draw) how often ln p is
/// −∞ (the image count changes, or no valid lens) or the microlensing table refuses an image, by the table's
/// reason: an axis's end (κ, γ or s outside the grid), the critical line's margin, or a cell it lacks.
///
///     swift run -c release tessera-bench lens-walls RUN_DIR [SCALE]   (SCALE default 0.2)
enum LensWallsBenchmark {
    /// Counts of what the posterior gives at the probe points.
    struct Walls {
        var total = 0, minusInfinity = 0, badGradient = 0
        /// Table refusals by reason ("κ grid", "γ grid", "s grid", "critical line", "missing cell", "other").
        var thrown: [String: Int] = [:]
        var thrownTotal: Int { thrown.values.reduce(0, +) }
        /// The refusals as "reason count, ..." in the reasons' order.
        var thrownSummary: String { thrown.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }

        /// Adds another probe's counts (the run's totals over its lenses).
        mutating func add(_ other: Walls) {
            total += other.total
            minusInfinity += other.minusInfinity
            badGradient += other.badGradient
            for (k, v) in other.thrown { thrown[k, default: 0] += v }
        }
    }

    /// Probes `posterior` around `draws` (constrained z) at `scale` posterior sds.
    static func probe(_ posterior: LensInterimPosterior, draws: [[Double]], scale: Double, rng: inout RandomSource) -> Walls {
        let sd = (0..<7).map { k -> Double in
            let v = draws.map { $0[k] }, m = v.reduce(0, +) / Double(v.count)
            return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot()
        }
        var walls = Walls()
        for j in stride(from: 0, to: draws.count, by: 8) {
            for _ in 0..<5 {
                let z = (0..<7).map { draws[j][$0] + scale * sd[$0] * rng.normal() }
                walls.total += 1
                do {
                    let (v, g) = try posterior.logDensityAndGradient(z)
                    if !v.isFinite { walls.minusInfinity += 1 } else if !g.allSatisfy(\.isFinite) { walls.badGradient += 1 }
                } catch let LensInferenceError.outsideTable(_, _, _, _, _, _, reason) {
                    walls.thrown[category(reason), default: 0] += 1
                } catch {
                    walls.thrown["other", default: 0] += 1
                }
            }
        }
        return walls
    }

    /// The table's reason for refusing a query, in a few words (`TableQueryError`'s descriptions).
    static func category(_ reason: String) -> String {
        if reason.contains("outside the table's grid") { return (reason.split(separator: " ").first.map(String.init) ?? "?") + " grid" }
        if reason.contains("critical line") { return "critical line" }
        if reason.contains("lacks") { return "missing cell" }
        return "other"
    }

    static func run(arguments: [String]) {
        guard let dir = arguments.first else {
            print("usage: tessera-bench lens-walls RUN_DIR [SCALE]")
            exit(2)
        }
        let scale = arguments.count > 1 ? Double(arguments[1]) ?? 0.2 : 0.2
        do {
            let (c, cosmology, microlensing, catalog) = try InferRunFiles.load(dir)
            var all = Walls()
            print("id images divergent_fraction points minus_infinity table_refusals (by reason)")
            for (i, lens) in catalog.lenses.enumerated() {
                let path = String(format: "%@/lenses/lens-%05d.json", dir, i)
                guard let data = FileManager.default.contents(atPath: path) else { print("\(lens.id): no checkpoint \(path)"); continue }
                let samples = try JSONDecoder().decode(InferStages.LensSamples.self, from: data)
                let posterior = try InferStages.interimPosterior(lens, c: c, microlensing: microlensing, cosmology: cosmology)
                var rng = RandomSource(seed: 5, stream: UInt64(i))
                let w = probe(posterior, draws: samples.draws, scale: scale, rng: &rng)
                all.add(w)
                print(String(format: "%@ %d %.2f %d %.3f %.3f", lens.id, lens.images.count,
                             Double(samples.divergences) / Double(max(samples.draws.count, 1)), w.total,
                             Double(w.minusInfinity) / Double(w.total), Double(w.thrownTotal) / Double(w.total)) + " (\(w.thrownSummary))")
            }
            print(String(format: "all: %d points within %.2f sd: ln p = −∞ %.3f, table refusals %.3f (%@), gradient not finite %.3f",
                         all.total, scale, Double(all.minusInfinity) / Double(all.total), Double(all.thrownTotal) / Double(all.total),
                         all.thrownSummary, Double(all.badGradient) / Double(all.total)))
        } catch {
            print("lens-walls: \(error)")
            exit(1)
        }
    }
}
