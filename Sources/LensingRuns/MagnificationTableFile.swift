import Foundation
import Microlensing
import TesseraHDF5
import TesseraMPI
import TesseraRun
import TesseraSupport

/// The HDF5 layout of a magnification table (`table.h5`), written by all ranks in parallel.
///
/// h5py shapes (n = cells, m = source sizes, b = bins):
/// - `/pdf` [n, m, b] float64 — density per unit log10(μ/μ_theory); NaN rows for cells without data
/// - `/bins/log_mu_edges` [b+1] — bin edges in log10(μ/μ_theory), μ_theory = 1/|(1−κ)² − γ²|
/// - `/grid/kappa`, `/grid/gamma`, `/grid/s` [n] — each cell's coordinates (lattice, s fastest)
/// - `/grid/kappa_axis`, `/grid/gamma_axis`, `/grid/s_axis` — the lattice axes
/// - `/grid/source_sizes` [m] — Einstein radii (0 = point source)
/// - `/cells/status` [n] int32 — 1 computed, 0 skipped (critical line), −1 failed or missing
/// - `/cells/mean_magnification`, `/cells/theory_magnification`, `/cells/seconds` [n] float64
/// - `/cells/rays`, `/cells/stars`, `/cells/seed`, `/cells/rank` [n] int64
/// - root attributes: `table_version`, `sim_id`, `tessera_version`, `size_re`, `pixels`,
///   `rays_per_pixel`, `source_profile`, `seed`, `critical_margin`, `created`
public enum MagnificationTableFile {
    public static let name = "table.h5"

    public enum Status: Int32 { case computed = 1, skipped = 0, missing = -1 }

    /// Collective: every rank calls this. Rank r writes the contiguous block r of cells, reading
    /// their results from the checkpoints (so the run directory must be on a file system every
    /// rank sees, as parallel HDF5 requires anyway). The file is first written as `table.h5.partial` and
    /// renamed by rank 0, so an existing table is replaced only by a complete one.
    public static func write(config: TableGridConfiguration, checkpoints: CellCheckpoints, to path: String,
                             communicator comm: Communicator) throws {
        let cells = config.cells
        let n = cells.count, m = config.sourceSizes.count, b = config.bins
        let partial = path + ".partial"
        let file = try HDF5File.create(partial, communicator: comm)
        let pdf = try file.createDataset("/pdf", of: Double.self, shape: [n, m, b])
        let status = try file.createDataset("/cells/status", of: Int32.self, shape: [n])
        let doubles = try ["mean_magnification", "theory_magnification", "seconds"].map {
            try file.createDataset("/cells/\($0)", of: Double.self, shape: [n])
        }
        let ints = try ["rays", "stars", "seed", "rank"].map { try file.createDataset("/cells/\($0)", of: Int64.self, shape: [n]) }

        // Small, identical on every rank: written by rank 0 only (independent transfers).
        let grid = try [("kappa", cells.map(\.kappa)), ("gamma", cells.map(\.gamma)), ("s", cells.map(\.s)),
                        ("kappa_axis", config.kappa), ("gamma_axis", config.gamma), ("s_axis", config.s),
                        ("source_sizes", config.sourceSizes)].map { name, values in
            (try file.createDataset("/grid/\(name)", of: Double.self, shape: [values.count]), values)
        }
        let edges = try file.createDataset("/bins/log_mu_edges", of: Double.self, shape: [b + 1])
        if comm.isRoot {
            for (dataset, values) in grid { try dataset.write(values) }
            try edges.write(config.binEdges)
        }

        // This rank's block of cells.
        let per = (n + comm.size - 1) / comm.size
        let first = min(n, comm.rank * per), last = min(n, first + per)
        let count = last - first
        var pdfBlock: [Double] = [], statusBlock: [Int32] = []
        var doubleBlocks = [[Double]](repeating: [], count: 3), intBlocks = [[Int64]](repeating: [], count: 4)
        for cell in cells[first..<last] {
            if let r = try checkpoints.load(cell.index) {
                guard r.pdf.count == m * b else {
                    throw RunDirectoryError.malformed(file: checkpoints.path(for: cell.index),
                                                      reason: "pdf has \(r.pdf.count) values, the grid needs \(m * b)")
                }
                pdfBlock += r.pdf
                statusBlock.append(Status.computed.rawValue)
                doubleBlocks[0].append(r.meanMagnification); doubleBlocks[1].append(r.theoryMagnification)
                doubleBlocks[2].append(r.seconds)
                intBlocks[0].append(r.rays); intBlocks[1].append(r.stars)
                intBlocks[2].append(Int64(bitPattern: r.seed)); intBlocks[3].append(Int64(r.rank))
            } else {
                pdfBlock += [Double](repeating: .nan, count: m * b)
                statusBlock.append(cell.computable ? Status.missing.rawValue : Status.skipped.rawValue)
                doubleBlocks[0].append(.nan); doubleBlocks[1].append(theoryMagnification(cell))
                doubleBlocks[2].append(.nan)
                intBlocks[0].append(0); intBlocks[1].append(0)
                intBlocks[2].append(Int64(bitPattern: cell.seed)); intBlocks[3].append(-1)
            }
        }
        try pdf.write(pdfBlock, start: [first, 0, 0], count: [count, m, b], mode: .collective)
        try status.write(statusBlock, start: [first], count: [count], mode: .collective)
        for (dataset, block) in zip(doubles, doubleBlocks) { try dataset.write(block, start: [first], count: [count], mode: .collective) }
        for (dataset, block) in zip(ints, intBlocks) { try dataset.write(block, start: [first], count: [count], mode: .collective) }

        let attributes: [(String, HDF5AttributeValue)] = [
            ("table_version", .string(config.tableVersion)), ("sim_id", .string(config.simId)),
            ("tessera_version", .string(TesseraVersion.string)), ("size_re", .double(config.sizeRE)),
            ("pixels", .int(Int64(config.pixels))), ("rays_per_pixel", .double(config.raysPerPixel)),
            ("source_profile", .string(config.sourceProfile.rawValue)), ("seed", .int(Int64(bitPattern: config.seed))),
            ("critical_margin", .double(config.criticalMargin)), ("created", .string(Timestamp.iso8601())),
            ("compensate_mean_field", .int(config.compensateMeanField ? 1 : 0)), ("light_loss", .double(config.lightLoss)),
            ("method", .string(config.method.rawValue)),
        ]
        for (name, value) in attributes { try file.setAttribute(name, value) }
        [pdf, status, edges].forEach { $0.close() }
        (doubles + ints + grid.map(\.0)).forEach { $0.close() }
        try file.close()
        try comm.barrier()
        if comm.isRoot {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        }
        try comm.barrier()
    }

    /// μ_theory = 1/|(1−κ)² − γ²| of a cell (infinite on the critical line).
    public static func theoryMagnification(_ cell: TableGridConfiguration.Cell) -> Double {
        theoryMagnification(kappa: cell.kappa, gamma: cell.gamma)
    }

    /// μ_theory = 1/|(1−κ)² − γ²|, the mean magnification of the macro model, which the
    /// table's magnification axis is measured against.
    @inline(__always)
    public static func theoryMagnification(kappa: Double, gamma: Double) -> Double {
        MagnificationTableInterpolator.theoryMagnification(kappa: kappa, gamma: gamma)
    }
}
