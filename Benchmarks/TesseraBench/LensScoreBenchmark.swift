import Foundation
import LensInference
import LensingRuns
import StrongLensing
import TesseraSupport

/// Is the lens likelihood the mock's sampling distribution? (issue 17). For each of the first lenses of a `tessera
/// infer` run's mock catalog, its data are redrawn many times at its true parameters (`MockPopulation.observe`:
/// microlensing, position and flux noise, no selection) and the gradient of ln L (`LensLikelihood.valueAndGradient`,
/// microlensing marginalised) is taken at the truth. Where the likelihood is the density the data were drawn from,
/// the score has mean zero; a mean many standard errors from zero in a coordinate is a likelihood that differs
/// from the mock, and its sign says which way a fit is pushed.
///
///     swift run -c release tessera-bench lens-score RUN_DIR [LENSES [DRAWS [identity]]]   (defaults 10 lenses, 400 draws)
///
/// With `identity`, also the information identity (Bartlett's second): over the redraws, the variance of each
/// score coordinate should equal the mean of −∂²ln L/∂θ² there (second central differences of ln L at 10× the
/// likelihood's gradient steps). A ratio var(score)/E[−H] below 1 is a likelihood more curved than the data's
/// scatter: intervals too narrow by about √ratio; above 1, too wide. Printed per lens and pooled (Σ var / Σ E[−H]).
enum LensScoreBenchmark {
    static func run(arguments: [String]) {
        guard let dir = arguments.first else {
            print("usage: tessera-bench lens-score RUN_DIR [LENSES [DRAWS]]")
            exit(2)
        }
        let lensCount = arguments.count > 1 ? Int(arguments[1]) ?? 10 : 10
        let draws = arguments.count > 2 ? Int(arguments[2]) ?? 400 : 400
        let identity = arguments.count > 3 && arguments[3] == "identity"
        do {
            let (c, cosmology, microlensing, catalog) = try InferRunFiles.load(dir)
            let population = try MockPopulation(hyperparameters: catalog.hyperparameters, survey: catalog.survey, cosmology: cosmology,
                                                microlensing: microlensing)
            let names = InferStages.lensParameterNames
            print("lens images " + names.map { "\($0)_mean_score/SE" }.joined(separator: " "))
            var pooled = [Double](repeating: 0, count: 7), pooledVariance = [Double](repeating: 0, count: 7)
            var pooledScoreVariance = [Double](repeating: 0, count: 7), pooledCurvature = [Double](repeating: 0, count: 7)
            for (index, lens) in catalog.lenses.prefix(lensCount).enumerated() {
                let visible = try population.solve(lens).filter { $0.kind != .maximum }
                let t = lens.truth.parameters
                var rng = RandomSource(seed: 99, stream: UInt64(index))
                var scores: [[Double]] = [], curvatures: [[Double]] = []
                for _ in 0..<draws {
                    guard let (observed, _) = try population.observe(visible, sourceFlux: Double.exp10(t.logSourceFlux), lens: lens.id, rng: &rng) else { continue }
                    var redrawn = lens
                    redrawn.images = observed
                    let like = try LensLikelihood(lens: redrawn, cosmology: cosmology, microlensing: microlensing, sourceSize: c.sourceSize)
                    let (value, g) = try like.valueAndGradient(t, alphaSPS: lens.truth.alphaSPS, microlensing: true)
                    guard value.isFinite, g.allSatisfy(\.isFinite) else { continue }
                    if identity {
                        // −∂²ln L/∂θ_k² by second central differences of ln L, at 10× the gradient's own steps.
                        var h = [Double](repeating: .nan, count: 7)
                        for k in 0..<7 {
                            let step = 10 * like.finiteDifferenceSteps[k]
                            func at(_ sign: Double) throws -> Double {
                                var q = t, alpha = lens.truth.alphaSPS
                                if k < 6 { q.vector[k] += sign * step } else { alpha += sign * step }
                                return try like.logLikelihood(q, alphaSPS: alpha, microlensing: true)
                            }
                            h[k] = -(try at(1) - 2 * value + at(-1)) / (step * step)
                        }
                        guard h.allSatisfy(\.isFinite) else { continue }
                        curvatures.append(h)
                    }
                    scores.append(g)
                }
                let n = Double(scores.count)
                var line = "\(lens.id) \(visible.count)"
                for k in 0..<7 {
                    let mean = scores.reduce(0) { $0 + $1[k] } / n
                    let variance = scores.reduce(0) { $0 + ($1[k] - mean) * ($1[k] - mean) } / (n - 1)
                    line += String(format: " %+.2f", mean / (variance / n).squareRoot())
                    pooled[k] += mean
                    pooledVariance[k] += variance / n
                    if identity {
                        let curvature = curvatures.reduce(0) { $0 + $1[k] } / n
                        pooledScoreVariance[k] += variance
                        pooledCurvature[k] += curvature
                        line += String(format: " (var/E[-H] %.2f)", variance / curvature)
                    }
                }
                print(line + " (\(scores.count) draws)")
            }
            if identity {
                print("pooled var(score) / E[-H] (1 for a likelihood as curved as the data scatter): "
                      + (0..<7).map { String(format: "%@ %.3f", names[$0], pooledScoreVariance[$0] / pooledCurvature[$0]) }.joined(separator: ", "))
            }
            print("pooled mean score / SE: " + (0..<7).map { String(format: "%@ %+.2f", names[$0], pooled[$0] / pooledVariance[$0].squareRoot()) }.joined(separator: ", "))
        } catch {
            print("lens-score: \(error)")
            exit(1)
        }
    }
}
