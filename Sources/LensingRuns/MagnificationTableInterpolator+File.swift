import Microlensing
import TesseraHDF5

extension MagnificationTableInterpolator {
    /// Load `table.h5` as written by `tessera tabulate` (layout: `MagnificationTableFile`).
    /// Cells with status 1 are present; skipped and missing cells are not.
    public static func load(_ path: String) throws -> MagnificationTableInterpolator {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        let kappa = try file.read(Double.self, from: "/grid/kappa_axis").values
        let gamma = try file.read(Double.self, from: "/grid/gamma_axis").values
        let s = try file.read(Double.self, from: "/grid/s_axis").values
        let sizes = try file.read(Double.self, from: "/grid/source_sizes").values
        let edges = try file.read(Double.self, from: "/bins/log_mu_edges").values
        let pdf = try file.read(Double.self, from: "/pdf")
        let status = try file.read(Int32.self, from: "/cells/status").values
        let margin = try file.attribute("critical_margin").doubleValue ?? 0
        let cells = kappa.count * gamma.count * s.count
        guard pdf.shape == [cells, sizes.count, edges.count - 1], status.count == cells else {
            throw TableQueryError.malformedTable(file: path, reason: "/pdf has shape \(pdf.shape), the grid needs [\(cells), \(sizes.count), \(edges.count - 1)]")
        }
        return MagnificationTableInterpolator(kappaAxis: kappa, gammaAxis: gamma, sAxis: s, sourceSizes: sizes,
                                              logMuEdges: edges, pdf: pdf.values, present: status.map { $0 == 1 },
                                              criticalMargin: margin)
    }
}
