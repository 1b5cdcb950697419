import Foundation
import LensInference
import TesseraHDF5
import TesseraSupport

/// `chains.h5` of an inference run, written atomically by rank 0 from the stage checkpoints.
///
/// Layout (all float64; "parameter" columns named by the string datasets beside them):
/// - `/eta/draws` [chain, draw, parameter] with `/eta/names` (alpha_sps, halo_slope, halo_normalisation,
///   halo_scatter), `/eta/log_posterior` [chain, draw] (ln p(η | data) up to a constant, selection included),
///   `/eta/start` [chain, parameter] (the dispersed starts);
/// - `/lenses/draws` [chain, draw, lens, parameter] with `/lenses/names` (log_halo_mass [log M☉], shear1, shear2,
///   source_x, source_y [arcsec], log_source_flux, alpha_sps) and `/lenses/ids`: each lens's parameters drawn from
///   its conditional posterior given that η draw (stage 3);
/// - `/stage1/draws` [lens, draw, parameter]: each lens's interim-prior NUTS draws (stage 1), same columns; a lens
///   that refinement rounds sampled again has more (its chains one after another), so the draw axis is the longest
///   lens's, the others padded with NaN, and `/stage1/draw_counts` [lens] gives each lens's number.
/// Root attributes: `sim_id`, `table_version`, `selection_table_version`, `microlensing` (1 or 0), `seed`.
public enum InferenceChainsFile {
    public static let name = "chains.h5"

    public static func write(chains: [InferStages.EtaChain], lenses: [InferStages.LensSamples], population: ReweightedPopulation,
                             seed: UInt64, simId: String, tableVersion: String, selectionVersion: String, microlensing: Bool,
                             to path: String) throws {
        let nChains = chains.count, nDraws = chains.first?.draws.count ?? 0, nLenses = lenses.count
        let nLensDraws = lenses.map(\.draws.count).max() ?? 0
        var lensDraws: [Double] = []
        lensDraws.reserveCapacity(nChains * nDraws * nLenses * 7)
        for chain in chains {
            for (d, picks) in try InferStages.conditionalIndices(chain: chain, population: population, seed: seed).enumerated() {
                precondition(d < nDraws)
                for (i, j) in picks.enumerated() {
                    lensDraws.append(contentsOf: try InferStages.lensDraw(lenses[i], population.lenses[i], pick: j, eta: chain.draws[d]))
                }
            }
        }
        try writeReplacing(path) { partial in
            let h5 = try HDF5File.create(partial)
            try h5.setAttribute("sim_id", .string(simId))
            try h5.setAttribute("table_version", .string(tableVersion))
            try h5.setAttribute("selection_table_version", .string(selectionVersion))
            try h5.setAttribute("microlensing", .int(microlensing ? 1 : 0))
            try h5.setAttribute("seed", .int(Int64(bitPattern: seed)))
            for group in ["/eta", "/lenses", "/stage1"] { try h5.createGroup(group) }
            try h5.writeStrings(InferStages.etaNames, to: "/eta/names")
            try h5.write(chains.flatMap { $0.draws.flatMap { $0 } }, shape: [nChains, nDraws, 4], to: "/eta/draws")
            try h5.write(chains.flatMap(\.logPosterior), shape: [nChains, nDraws], to: "/eta/log_posterior")
            try h5.write(chains.flatMap(\.start), shape: [nChains, 4], to: "/eta/start")
            try h5.writeStrings(InferStages.lensParameterNames, to: "/lenses/names")
            try h5.writeStrings(lenses.map(\.id), to: "/lenses/ids")
            try h5.write(lensDraws, shape: [nChains, nDraws, nLenses, 7], to: "/lenses/draws")
            try h5.writeStrings(InferStages.lensParameterNames, to: "/stage1/names")
            let padding = [Double](repeating: .nan, count: 7)
            try h5.write(lenses.flatMap { l in (l.draws + [[Double]](repeating: padding, count: nLensDraws - l.draws.count)).flatMap { $0 } },
                         shape: [nLenses, nLensDraws, 7], to: "/stage1/draws")
            try h5.write(lenses.map { Double($0.draws.count) }, shape: [nLenses], to: "/stage1/draw_counts")
            try h5.close()
        }
    }
}
