import Foundation
import HaloProfiles
import LensInference
import LensingRuns
import Microlensing

/// The per-lens likelihood's speed (issue 17's benchmark: evaluations per second per core for 100 quad lenses),
/// with the microlensing table and without, and the cost of one Monte Carlo draw of the selection A(η).
/// Uses the LensInference tests' fixture table unless given another `table.h5`. One thread.
enum LensLikelihoodBenchmark {
    static func run(table path: String, quads: Int) {
        do {
            let table = try MagnificationTableInterpolator.load(path)
            let cosmology = try Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)
            let pop = try MockPopulation(hyperparameters: PopulationHyperparameters(), survey: SurveySettings(),
                                         cosmology: cosmology, microlensing: MicrolensedFlux(table: table))
            // Draw lenses until `quads` four-image lenses are selected; time every draw (that is A(η)'s unit cost).
            var lenses: [MockLens] = [], draws = 0
            let t0 = Date()
            while lenses.count < quads {
                if case .selected(let lens) = try pop.draw(index: draws, seed: 17), lens.images.count == 4 { lenses.append(lens) }
                draws += 1
            }
            let drawTime = Date().timeIntervalSince(t0) / Double(draws)
            let likes = try lenses.map { try LensLikelihood(lens: $0, cosmology: cosmology, microlensing: MicrolensedFlux(table: table), sourceSize: 0) }
            for useTable in [true, false] {
                var evaluations = 0, sum = 0.0
                let t1 = Date()
                repeat {
                    for (like, lens) in zip(likes, lenses) {
                        sum += try like.logLikelihood(lens.truth.parameters, alphaSPS: lens.truth.alphaSPS, microlensing: useTable)
                        evaluations += 1
                    }
                } while Date().timeIntervalSince(t1) < 2
                let dt = Date().timeIntervalSince(t1)
                print(String(format: "lens likelihood, %d quads, %@: %.0f lens evaluations/s on one core (%.3f ms each), "
                             + "%.1f evaluations/s of the whole 100-lens sum (Σ ln L = %.3f)",
                             quads, useTable ? "microlensing marginalised with the table" : "no microlensing",
                             Double(evaluations) / dt, 1e3 * dt / Double(evaluations),
                             Double(evaluations) / dt / Double(quads), sum / Double(evaluations) * Double(quads)))
            }
            // Value and gradient as stage 1 of `infer` uses them: tracked stepped images against the full search for each.
            for tracked in [true, false] {
                var evaluations = 0, sum = 0.0
                let t1 = Date()
                repeat {
                    for (like, lens) in zip(likes, lenses) {
                        let p = lens.truth.parameters, a = lens.truth.alphaSPS
                        let g = tracked ? try like.valueAndGradient(p, alphaSPS: a).gradient
                                        : try like.fullSearchGradient(p, alphaSPS: a, microlensing: true)
                        sum += g[0]
                        evaluations += 1
                    }
                } while Date().timeIntervalSince(t1) < 2
                let dt = Date().timeIntervalSince(t1)
                print(String(format: "lens value + gradient (7 central differences, table), %@: %.2f ms each (Σ ∂lnL/∂logM_h = %.6g)",
                             tracked ? "stepped images tracked by Newton" : "full image search at every step",
                             1e3 * dt / Double(evaluations), sum / Double(evaluations) * Double(quads)))
            }
            print(String(format: "selection A(η): %.3f ms per Monte Carlo draw (%d draws for %d quads)", 1e3 * drawTime, draws, quads))
        } catch {
            print("lens-likelihood: \(error)")
            exit(1)
        }
    }
}
