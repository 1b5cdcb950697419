import Foundation
import HaloProfiles
import Inference
import LensInference
import LensingRuns
import TesseraSupport

/// Does one mock lens's stage-1 posterior have separated modes? (issue 17: a chain that stays in one mode cuts the
/// population posterior off where that mode's α slices end.)
///
/// For lens INDEX of a finished `tessera infer` run on a mock: `LensStart.find`'s start, and the optimum L-BFGS
/// reaches from the truth; then a stage-1 chain (the run's settings) from each, with its draws' α and log M_h
/// quantiles, its best ln p_int, and the α range its slices support. Chains from two starts that stay apart, each
/// with a best ln p near the other's, are two modes a single chain does not cross.
///
///     swift run -c release tessera-bench lens-modes RUN_DIR INDEX
enum LensModesBenchmark {
    static func run(arguments: [String]) {
        guard arguments.count >= 2, let index = Int(arguments[1]) else {
            print("usage: tessera-bench lens-modes RUN_DIR INDEX")
            exit(2)
        }
        let dir = arguments[0]
        do {
            let (c, cosmology, microlensing, catalog) = try InferRunFiles.load(dir)
            let lens = catalog.lenses[index]
            let posterior = try InferStages.interimPosterior(lens, c: c, microlensing: microlensing, cosmology: cosmology)
            let t = lens.truth.parameters
            let zTruth = [t.logHaloMass, t.shear1, t.shear2, t.sourceX, t.sourceY, t.logSourceFlux, lens.truth.alphaSPS]
            let truth = try posterior.logDensity(zTruth)
            let clock = ContinuousClock()
            var found: (z: [Double], logDensity: Double)!
            let searchTime = try clock.measure { found = try LensStart.find(posterior) }
            print(String(format: "%@: truth ln p %.2f at α %.3f log M_h %.3f", lens.id, truth, zTruth[6], zTruth[0]))
            print(String(format: "start search: ln p %.2f at α %.3f log M_h %.3f (%@)", found.logDensity, found.z[6], found.z[0], "\(searchTime)"))
            var starts = [("search", found.z)]
            if let fromTruth = LensStart.polish(posterior, from: zTruth, value: truth) {
                print(String(format: "from truth:   ln p %.2f at α %.3f log M_h %.3f", fromTruth.logDensity, fromTruth.z[6], fromTruth.z[0]))
                starts.append(("truth", fromTruth.z))
            }
            for (name, z) in starts {
                var samples: InferStages.LensSamples!
                let time = try clock.measure {
                    samples = try InferStages.sampleLens(index: index, lens: lens, c: c, microlensing: microlensing, cosmology: cosmology, from: z)
                }
                func quantiles(_ k: Int) -> String {
                    let v = samples.draws.map { $0[k] }.sorted()
                    return [0.02, 0.5, 0.98].map { String(format: "%.3f", v[Int($0 * Double(v.count - 1))]) }.joined(separator: " ")
                }
                let best = samples.draws.map { (try? posterior.logDensity($0)) ?? -.infinity }.max() ?? .nan
                let support = samples.alphaConditional?.supportedAlpha.map { String(format: "%.3f–%.3f", $0.lowerBound, $0.upperBound) } ?? "–"
                print(String(format: "chain from %@: α [%@] log M_h [%@] best ln p %.2f, slices support α %@, %d divergent (%@)",
                             name, quantiles(6), quantiles(0), best, support, samples.divergences, "\(time)"))
                // Walls near the draws (`LensWallsBenchmark.probe`): ln p = −∞ (the image count changes, or no
                // finite likelihood), the table refusing an image, or a finite value with a gradient that is not.
                var rng = RandomSource(seed: 5, stream: UInt64(index))
                for scale in [0.05, 0.2] {
                    let w = LensWallsBenchmark.probe(posterior, draws: samples.draws, scale: scale, rng: &rng)
                    print(String(format: "  within %.2f sd of the draws (%d points): ln p = −∞ %.3f, table throws %.3f, gradient not finite %.3f",
                                 scale, w.total, Double(w.minusInfinity) / Double(w.total), Double(w.thrownTotal) / Double(w.total),
                                 Double(w.badGradient) / Double(w.total)))
                }
            }
        } catch {
            print("lens-modes: \(error)")
            exit(1)
        }
    }
}
