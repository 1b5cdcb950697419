import Foundation
import SceneFitting
import SceneModel
import TesseraHDF5

extension SceneFitRunner {
    /// A worker's job: build, fit, write this patch's chain slabs and record, return the new state.
    static func fitRegion(_ task: RegionTask, builder: PatchBuilder, settings: FitSettings, bounds: ParameterBounds, seed: UInt64,
                          mode: FitSettings.Mode, bands: [String], results: HDF5File, rank: Int) throws -> RegionOutcome {
        let t0 = Date()
        let patch = try builder.build(active: task.active, roi: task.roi, fixed: task.fixed, anchors: task.anchors)
        let layout = patch.kernel.layout
        let start = patch.kernel.parameters(of: patch.start)
        // pa intervals centred on each galaxy's current pa (see PatchPosterior).
        let paCentres = (0..<layout.sourceCount).map { s in layout.index(ofSource: s, .pa).map { start[$0] } }
        let floors = try bounds.fluxFloorSigmas.map { try PatchPosterior.fluxFloors(kernel: patch.kernel, at: start, sigmas: $0) }
        let posterior = try PatchPosterior(kernel: patch.kernel, anchors: patch.anchors, bounds: bounds, paCentres: paCentres,
                                           fluxFloors: floors, shapes: settings.shapeCoordinates)
        var settings = settings
        settings.fluxesOnly = task.fluxesOnly
        let fit = try PatchFitter.fit(posterior: posterior, start: start,
                                      covariances: task.covariances, settings: settings, seed: seed, stream: UInt64(task.region.patchID))
        let summary = FitSummary(fit: fit, posterior: posterior, plane: patch.plane, active: task.active, bands: bands,
                                 sampled: mode == .sample)
        if summary.fromDraws {
            for s in 0..<layout.sourceCount {
                let rows = summary.draws[s]
                try results.dataset("/chains/\(task.active[s].id)").write(rows.flatMap { $0 }, start: [task.chainOffsets[s], 0],
                                                                          count: [rows.count, rows.first?.count ?? 0])
                if let st = fit.stats {
                    let stats = (0..<st.acceptStat.count).flatMap { d -> [Double] in
                        [st.acceptStat[d], Double(st.treeDepth[d]), st.divergent[d] ? 1 : 0, st.energy[d], st.logLikelihood[d],
                         st.stepSize, Double(task.region.patchID)]
                    }
                    try results.dataset("/sampler/\(task.active[s].id)").write(stats, start: [task.chainOffsets[s], 0],
                                                                               count: [st.acceptStat.count, samplerColumns.count])
                }
            }
        }
        let stats = fit.stats
        let record: [String: Double] = [
            "patch_id": Double(task.region.patchID), "rank": Double(rank), "n_active": Double(task.active.count),
            "n_fixed": Double(task.fixed.count), "draws": Double(fit.chain.count), "divergences": Double(stats?.divergences ?? 0),
            "n_pixels": Double(patch.pixelCount), "n_exposures": Double(patch.exposureNames.count), "evaluations": Double(fit.evaluations),
            "step_size": stats?.stepSize ?? .nan, "mean_accept": stats.map { $0.acceptStat.reduce(0, +) / Double(max($0.acceptStat.count, 1)) } ?? .nan,
            "seconds": Date().timeIntervalSince(t0), "log_likelihood": fit.logLikelihood, "chi2": fit.chi2,
            "t_start": t0.timeIntervalSince1970, "t_end": Date().timeIntervalSince1970,
        ]
        let outcome = RegionOutcome(sources: summary.sources, covariances: fit.covariances, uncertainties: summary.uncertainties, rank: rank,
                                    flags: summary.flags.map(\.rawValue), thinning: stats?.thinning ?? 1,
                                    metESSTarget: stats?.metESSTarget ?? true)
        let row = task.region.patchID
        let capacity = try results.dataset("/patches/patch_id").shape()[0]
        guard row < capacity else {
            // Only after very many resumes: the record is lost, the fit itself is kept.
            FileHandle.standardError.write(Data("warning: patch \(row) has no row in /patches (capacity \(capacity)); its record is not written\n".utf8))
            return outcome
        }
        for (name, integer) in patchFields {
            let ds = try results.dataset("/patches/\(name)")
            if integer {
                try ds.write([Int64(record[name]!)], start: [row], count: [1])
            } else {
                try ds.write([record[name]!], start: [row], count: [1])
            }
        }
        let maxActive = try results.dataset("/patches/active_ids").shape()[1]
        let ids = (task.active.map(\.id) + Array(repeating: -1, count: maxActive)).prefix(maxActive)
        try results.dataset("/patches/active_ids").write(Array(ids), start: [row, 0], count: [1, maxActive])
        return outcome
    }
}
