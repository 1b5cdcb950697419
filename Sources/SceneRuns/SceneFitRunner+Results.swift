import SceneFitting
import SceneModel
import TesseraHDF5

/// The layout of `results.h5` (documented on `SceneFitRunner`): datasets created collectively
/// at the start, and the final state written by rank 0 at the end.
extension SceneFitRunner {
    /// Per-draw NUTS statistics stored beside each chain (`/sampler/<id>`, one row per kept draw,
    /// shared by the sources fitted together in that patch).
    static let samplerColumns = ["accept_stat", "tree_depth", "divergent", "energy", "log_density", "step_size", "patch_id"]

    static let patchFields: [(String, Bool)] = [  // (name, integer)
        ("patch_id", true), ("rank", true), ("n_active", true), ("n_fixed", true), ("draws", true), ("divergences", true),
        ("n_pixels", true), ("n_exposures", true), ("evaluations", true),
        ("step_size", false), ("mean_accept", false), ("seconds", false), ("log_likelihood", false), ("chi2", false),
        ("t_start", false), ("t_end", false),
    ]

    /// Collective: every dataset is created by all ranks before any worker writes.
    static func createLayout(_ f: HDF5File, sources: [Source], bands: [String], mode: FitSettings.Mode, target: Int,
                             capacity: Int, maxActive: Int) throws {
        try f.setAttribute("format", .string("tessera-scene-results-1"))
        try f.setAttribute("mode", .string(mode.rawValue))
        try f.setAttribute("bands", .string(bands.joined(separator: ",")))
        try f.setAttribute("model_version", .string(SceneModelInfo.modelVersion))
        try f.write(sources.map(\.id), to: "/sources/id")
        if mode == .sample {
            for s in sources {
                let names = CatalogColumns.names(bands: bands, isPoint: s.isPoint)
                try f.createDataset("/chains/\(s.id)", of: Double.self, shape: [target, names.count])
                try f.setAttribute("parameters", .string(names.joined(separator: ",")), on: "/chains/\(s.id)")
                try f.createDataset("/sampler/\(s.id)", of: Double.self, shape: [target, samplerColumns.count])
                try f.setAttribute("columns", .string(samplerColumns.joined(separator: ",")), on: "/sampler/\(s.id)")
            }
        }
        for (name, integer) in patchFields {
            if integer {
                try f.createDataset("/patches/\(name)", of: Int64.self, shape: [capacity])
            } else {
                try f.createDataset("/patches/\(name)", of: Double.self, shape: [capacity])
            }
        }
        try f.createDataset("/patches/active_ids", of: Int64.self, shape: [capacity, maxActive])
        try f.setAttribute("capacity", .int(Int64(capacity)), on: "/patches")
    }

    /// Rank 0, after the parallel file is closed: the final global state as plain datasets.
    static func writeFinalState(_ path: String, scene: SuperScene, bands: [String], converged: [Bool], passes: [Int]) throws {
        let f = try HDF5File.open(path, mode: .readWrite)
        defer { try? f.close() }
        if try f.exists("/state") { return }
        let s = scene.sources
        try f.write(s.map(\.id), to: "/state/id")
        try f.write(s.map(\.ra), to: "/state/ra")
        try f.write(s.map(\.dec), to: "/state/dec")
        try f.write(s.map(\.q), to: "/state/q")
        try f.write(s.map { SceneCatalog.wrappedPA($0.pa) }, to: "/state/pa")
        try f.write(s.map(\.sersic), to: "/state/sersic")
        try f.write(s.map(\.rhalf), to: "/state/rhalf")
        try f.write(s.flatMap(\.flux), shape: [s.count, bands.count], to: "/state/flux")
        try f.write(scene.iterations.map(Int64.init), to: "/state/n_iter")
        try f.write(s.indices.map { Int64(scene.flagged.contains($0) ? 1 : 0) }, to: "/state/flagged")
        try f.write(converged.map { Int64($0 ? 1 : 0) }, to: "/state/converged")
        try f.write(passes.map(Int64.init), to: "/state/n_pass")
        try f.setAttribute("bands", .string(bands.joined(separator: ",")), on: "/state")
    }
}
