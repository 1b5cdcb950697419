import Foundation
import HaloProfiles
import Inference
import LensInference
import LensingRuns

/// Where each mock lens's truth sits in its stage-1 posterior (issue 17: is a lens's chain in the right place?).
///
/// For every lens of a finished `tessera infer` run on a mock catalog: ln p_int (the interim posterior in
/// (log M_h, γ₁, γ₂, β_x, β_y, log F_s, α), the coordinates the draws are saved in) at the truth, at the draws,
/// and at the local maximum found by L-BFGS from the truth. If the chain explored the posterior, the truth's
/// ln p lies among the draws' (the fraction of draws above it is roughly uniform over lenses) and the maximum
/// reached from the truth is no higher than the best draw by more than a few units; a maximum from the truth far
/// above every draw is a mode the chain never visited. The last two columns are ln p_int and α at the chain's start
/// (`LensStart`'s optimum): a start far above every draw is a mode the chain found and then left. With `search`, two
/// more: ln p_int and α at the start today's `LensStart.find` gives (about 3 s per lens): one far above every draw
/// is a mode the run's chain never reached.
///
///     swift run -c release tessera-bench lens-truth RUN_DIR [EVERY [search]]   (EVERY: every k-th draw, default 4)
enum LensTruthBenchmark {
    static func run(arguments: [String]) {
        guard let dir = arguments.first else {
            print("usage: tessera-bench lens-truth RUN_DIR [EVERY [search]]")
            exit(2)
        }
        let every = arguments.count > 1 ? max(Int(arguments[1]) ?? 4, 1) : 4
        let search = arguments.count > 2 && arguments[2] == "search"
        do {
            let (c, cosmology, microlensing, catalog) = try InferRunFiles.load(dir)
            print("id images lnp_truth lnp_max_draws lnp_median_draws frac_draws_above_truth lnp_max_from_truth alpha_at_that_max logMh_at_that_max truth_alpha truth_logMh lnp_start alpha_start" + (search ? " lnp_search alpha_search" : ""))
            for (i, lens) in catalog.lenses.enumerated() {
                let path = String(format: "%@/lenses/lens-%05d.json", dir, i)
                guard let data = FileManager.default.contents(atPath: path) else { print("\(lens.id): no checkpoint \(path)"); continue }
                let samples = try JSONDecoder().decode(InferStages.LensSamples.self, from: data)
                let posterior = try InferStages.interimPosterior(lens, c: c, microlensing: microlensing, cosmology: cosmology)
                let t = lens.truth.parameters
                let zTruth = [t.logHaloMass, t.shear1, t.shear2, t.sourceX, t.sourceY, t.logSourceFlux, lens.truth.alphaSPS]
                let truth = (try? posterior.logDensity(zTruth)) ?? -.infinity
                let values = stride(from: 0, to: samples.draws.count, by: every).map { (try? posterior.logDensity(samples.draws[$0])) ?? -.infinity }
                let sorted = values.sorted()
                let above = Double(values.filter { $0 > truth }.count) / Double(max(values.count, 1))
                var best = (value: truth, z: zTruth)
                if truth.isFinite, let found = LensStart.polish(posterior, from: zTruth, value: truth) { best = (found.logDensity, found.z) }
                let start = (try? posterior.logDensity(samples.start)) ?? -.infinity
                var line = String(format: "%@ %d %.2f %.2f %.2f %.3f %.2f %.4f %.4f %.4f %.4f %.2f %.4f", lens.id, lens.images.count, truth,
                                  sorted.last ?? .nan, sorted.isEmpty ? .nan : sorted[sorted.count / 2], above, best.value,
                                  best.z[6], best.z[0], lens.truth.alphaSPS, t.logHaloMass, start, samples.start[6])
                if search {
                    let found = try? LensStart.find(posterior)
                    line += String(format: " %.2f %.4f", found?.logDensity ?? -.infinity, found?.z[6] ?? .nan)
                }
                print(line)
            }
        } catch {
            print("lens-truth: \(error)")
            exit(1)
        }
    }
}

/// What the lens benchmarks read of a finished `tessera infer` run on a mock: its configuration (params.json), the
/// cosmology, the microlensing table it names (version-checked) and its catalog (catalog.json).
enum InferRunFiles {
    static func load(_ dir: String) throws -> (InferConfiguration, Cosmology, MicrolensedFlux, MockLensCatalog) {
        let c = try JSONDecoder().decode(InferConfiguration.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/params.json")))
        let (microlensing, _) = try InferInputs.loadTable(c.table, expectedVersion: c.tableVersion)
        let catalog = try JSONDecoder().decode(MockLensCatalog.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/catalog.json")))
        return (c, try InferInputs.cosmology(), microlensing, catalog)
    }
}
