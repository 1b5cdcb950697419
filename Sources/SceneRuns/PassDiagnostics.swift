import Inference
import SceneFitting
import SceneModel
import TesseraHDF5

/// Split R̂ and ESS of a source's sampling chain *across passes*: the chain in `results.h5` is the
/// concatenation of the source's passes (`draws_per_patch` rows each, every pass run with its
/// neighbours at later values and its own NUTS warm-up), and each pass is treated as one chain.
///
/// - R̂ is Stan's split R̂ over the pass chains (each split in halves), so it grows both when a
///   pass drifts within itself and when passes disagree (neighbours that moved the source).
/// - ESS is Stan's multi-chain ESS over the pass chains (not split): within-pass autocorrelation
///   plus the between-pass variance, summed over passes.
///
/// With a single pass these are the split R̂ and ESS of that one chain (what `postprocess`
/// reported before passes existed).
public enum PassDiagnostics {
    /// Converged when every parameter's R̂ across passes is at most this.
    public static let rHatLimit = FitSettings.rHatLimit

    /// The pass chains of one column: rows [k·passLength, (k+1)·passLength) for every complete
    /// pass within the first `rows` values (the whole column as one chain when passLength is 0
    /// or only one pass is complete).
    public static func passChains(_ column: [Double], passLength: Int) -> [[Double]] {
        guard passLength > 0, column.count >= 2 * passLength else { return [column] }
        return stride(from: 0, to: column.count - passLength + 1, by: passLength).map { Array(column[$0..<($0 + passLength)]) }
    }

    /// (R̂, ESS) of one column across its passes.
    public static func rHatAndESS(_ column: [Double], passLength: Int) -> (rHat: Double, ess: Double) {
        let chains = passChains(column, passLength: passLength)
        return (Diagnostics.splitRHat(chains), Diagnostics.effectiveSampleSize(chains))
    }

    /// Per source: whether every column's R̂ across passes is at most `rHatLimit` (false for a
    /// source without at least 4 draws or with a NaN R̂). Reads `/chains/<id>` of a closed file.
    static func convergedAcrossPasses(resultsPath: String, sources: [Source], bands: [String], iterations: [Int],
                                      passLength: Int) throws -> [Bool] {
        let f = try HDF5File.open(resultsPath)
        defer { try? f.close() }
        return try sources.enumerated().map { i, s in
            guard try f.exists("/chains/\(s.id)") else { return false }
            let names = CatalogColumns.names(bands: bands, isPoint: s.isPoint)
            let chain = try f.read(Double.self, from: "/chains/\(s.id)")
            let n = min(iterations[i], chain.shape[0])
            guard n >= 4 else { return false }
            return names.indices.allSatisfy { j in
                let r = rHatAndESS((0..<n).map { chain.values[$0 * names.count + j] }, passLength: passLength).rHat
                return r <= rHatLimit
            }
        }
    }
}
