import Foundation
import LensInference
import TesseraHDF5
import TesseraRun
import TesseraSupport

/// The HDF5 layout of a mock strong-lens catalog (`lenses.h5`, written by `tessera lenses mock`), its writer and
/// its reader; the reader gives back the same `MockLensCatalog` value, and refuses a file of another format or a
/// lens without the two images a lens needs, naming the file and the lens.
///
/// Units: positions in arcsec relative to the lens centre (x along the first axis of `LensModel`), masses
/// log10 M☉ (M_h = M₂₀₀c), radii log10 physical kpc, fluxes in the survey's flux units (intrinsic source flux
/// as log10), time delays in days after the first image (of all images, the undetected central one included).
///
/// `/lenses/…` [N lenses]:
/// - `id` (string), `z_l`, `z_s`, `log_msps` (log10 M_sps, taken as measured exactly), `log_re` (log10 R_e [kpc])
/// - `n_images` int32, `first_image` int64 — the lens's rows of `/images` are first_image ..< first_image + n_images
/// - truth: `alpha_sps`, `log_halo_mass`, `shear1`, `shear2`, `source_x`, `source_y` [arcsec], `log_source_flux`
///
/// `/images/…` [M images, ordered by lens, then arrival time; the central image is never listed]:
/// - `lens` int64 (row in /lenses); observed `x`, `y` [arcsec] with per-axis Gaussian `position_error`;
///   observed `flux` with Gaussian `flux_error`
/// - truth: `true_x`, `true_y` [arcsec], `parity` int32 (+1 minimum, −1 saddle), `time_delay` [days],
///   `kappa`, `gamma` (|γ|), `s` (smooth fraction 1 − κ*/κ), `macro_magnification` (signed 1/det A),
///   `microlensing_factor` (μ/μ_macro drawn from the magnification table at (κ, γ, s, source size))
///
/// Root attributes: `format_version` ("1"), `hyperparameters` and `survey` (JSON of `PopulationHyperparameters`
/// and `SurveySettings`), `seed`, `drawn`, `rejected_outside_table`, `magnification_table_version`,
/// `git_commit`, `tessera_version`, `created`.
public enum MockLensCatalogFile {
    public static let name = "lenses.h5"
    public static let formatVersion = "1"

    static let lensColumns = ["z_l", "z_s", "log_msps", "log_re", "alpha_sps", "log_halo_mass", "shear1", "shear2",
                              "source_x", "source_y", "log_source_flux"]
    static let imageColumns = ["x", "y", "position_error", "flux", "flux_error", "true_x", "true_y", "time_delay", "kappa",
                               "gamma", "s", "macro_magnification", "microlensing_factor"]

    /// Draws `count` selected lenses from `population` with `seed` and writes them to `path`;
    /// returns (lenses, draws made).
    public static func mock(_ population: MockPopulation, count: Int, seed: UInt64, to path: String,
                            magnificationTableVersion: String, gitCommit: String) throws -> (lenses: Int, drawn: Int) {
        let catalog = try population.catalog(count: count, seed: seed)
        try write(catalog, to: path, magnificationTableVersion: magnificationTableVersion, gitCommit: gitCommit)
        return (catalog.lenses.count, catalog.drawn)
    }

    /// Writes `catalog` (serially) under `path.partial` and renames it.
    public static func write(_ catalog: MockLensCatalog, to path: String, magnificationTableVersion: String,
                             gitCommit: String) throws {
        let partial = path + ".partial"
        let file = try HDF5File.create(partial)
        let lenses = catalog.lenses
        try file.createGroup("/lenses")
        try file.createGroup("/images")
        try file.writeStrings(lenses.map(\.id), to: "/lenses/id")
        let lensValues: [[Double]] = lenses.map { l in
            let p = l.truth.parameters
            return [l.lensRedshift, l.sourceRedshift, l.logMsps, l.logEffectiveRadius, l.truth.alphaSPS, p.logHaloMass,
                    p.shear1, p.shear2, p.sourceX, p.sourceY, p.logSourceFlux]
        }
        for (k, column) in lensColumns.enumerated() { try file.write(lensValues.map { $0[k] }, to: "/lenses/\(column)") }
        try file.write(lenses.map { Int32($0.images.count) }, to: "/lenses/n_images")
        var first: [Int64] = [], offset: Int64 = 0
        for l in lenses { first.append(offset); offset += Int64(l.images.count) }
        try file.write(first, to: "/lenses/first_image")
        var rows: [[Double]] = [], owner: [Int64] = [], parity: [Int32] = []
        for (i, l) in lenses.enumerated() {
            guard l.truth.images.count == l.images.count else {
                throw RunDirectoryError.malformed(file: path, reason: "lens '\(l.id)' has \(l.images.count) observed and \(l.truth.images.count) true images")
            }
            for (o, t) in zip(l.images, l.truth.images) {
                rows.append([o.x, o.y, o.positionError, o.flux, o.fluxError, t.x, t.y, t.timeDelayDays, t.kappa, t.gamma,
                             t.smoothFraction, t.macroMagnification, t.microlensingFactor])
                owner.append(Int64(i))
                parity.append(Int32(t.parity))
            }
        }
        for (k, column) in imageColumns.enumerated() { try file.write(rows.map { $0[k] }, to: "/images/\(column)") }
        try file.write(owner, to: "/images/lens")
        try file.write(parity, to: "/images/parity")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let attributes: [(String, HDF5AttributeValue)] = [
            ("format_version", .string(formatVersion)),
            ("hyperparameters", .string(String(decoding: try encoder.encode(catalog.hyperparameters), as: UTF8.self))),
            ("survey", .string(String(decoding: try encoder.encode(catalog.survey), as: UTF8.self))),
            ("seed", .int(Int64(bitPattern: catalog.seed))), ("drawn", .int(Int64(catalog.drawn))),
            ("rejected_outside_table", .int(Int64(catalog.rejectedOutsideTable))),
            ("magnification_table_version", .string(magnificationTableVersion)), ("git_commit", .string(gitCommit)),
            ("tessera_version", .string(TesseraVersion.string)), ("created", .string(Timestamp.iso8601())),
        ]
        for (name, value) in attributes { try file.setAttribute(name, value) }
        try file.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }

    /// Reads a catalog written by `write`, with the magnification table version it was drawn over.
    /// - Throws: `RunDirectoryError.malformed` naming the file (and the lens) for another format version,
    ///   columns of the wrong length, or a lens with fewer than two images.
    public static func read(_ path: String) throws -> (catalog: MockLensCatalog, magnificationTableVersion: String) {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        func fail(_ reason: String) -> RunDirectoryError { .malformed(file: path, reason: reason) }
        func string(_ name: String) throws -> String {
            guard let v = try file.attribute(name).stringValue else { throw fail("attribute \(name) is not a string") }
            return v
        }
        func integer(_ name: String) throws -> Int64 {
            guard let v = try file.attribute(name).intValue else { throw fail("attribute \(name) is not an integer") }
            return v
        }
        let format = (try? string("format_version")) ?? "none"
        guard format == formatVersion else {
            throw fail("format_version is '\(format)' but this Tessera reads mock lens catalogs of format '\(formatVersion)'")
        }
        let ids = try file.readStrings(from: "/lenses/id")
        let n = ids.count
        let lensCols = try lensColumns.map { c -> [Double] in
            let v = try file.read(Double.self, from: "/lenses/\(c)").values
            guard v.count == n else { throw fail("/lenses/\(c) has \(v.count) values for \(n) lenses") }
            return v
        }
        let counts = try file.read(Int32.self, from: "/lenses/n_images").values
        let first = try file.read(Int64.self, from: "/lenses/first_image").values
        let parity = try file.read(Int32.self, from: "/images/parity").values
        let m = parity.count
        let imageCols = try imageColumns.map { c -> [Double] in
            let v = try file.read(Double.self, from: "/images/\(c)").values
            guard v.count == m else { throw fail("/images/\(c) has \(v.count) values for \(m) images") }
            return v
        }
        guard counts.count == n, first.count == n else { throw fail("/lenses/n_images or first_image do not have \(n) values") }
        var lenses: [MockLens] = []
        for i in 0..<n {
            let c = Int(counts[i]), f = Int(first[i])
            guard c >= 2 else {
                throw fail("lens '\(ids[i])' has \(c) image(s); a lens needs at least two (no multiple-image solution)")
            }
            guard f >= 0, f + c <= m else { throw fail("lens '\(ids[i])': images \(f)..<\(f + c) outside /images (\(m) rows)") }
            let col = { (k: Int) in lensCols[k][i] }
            var observed: [ObservedImage] = [], truth: [MockLens.TrueImage] = []
            for j in f..<(f + c) {
                let v = imageCols.map { $0[j] }
                observed.append(ObservedImage(x: v[0], y: v[1], positionError: v[2], flux: v[3], fluxError: v[4]))
                truth.append(MockLens.TrueImage(x: v[5], y: v[6], kappa: v[8], gamma: v[9], smoothFraction: v[10],
                                                macroMagnification: v[11], microlensingFactor: v[12], parity: Int(parity[j]),
                                                timeDelayDays: v[7]))
            }
            let parameters = LensParameters(logHaloMass: col(5), shear1: col(6), shear2: col(7), sourceX: col(8),
                                            sourceY: col(9), logSourceFlux: col(10))
            lenses.append(MockLens(id: ids[i], lensRedshift: col(0), sourceRedshift: col(1), logMsps: col(2),
                                   logEffectiveRadius: col(3), images: observed,
                                   truth: MockLens.Truth(parameters: parameters, alphaSPS: col(4), images: truth)))
        }
        let decoder = JSONDecoder()
        let catalog = MockLensCatalog(
            hyperparameters: try decoder.decode(PopulationHyperparameters.self, from: Data(string("hyperparameters").utf8)),
            survey: try decoder.decode(SurveySettings.self, from: Data(string("survey").utf8)),
            seed: UInt64(bitPattern: try integer("seed")), drawn: Int(try integer("drawn")),
            rejectedOutsideTable: Int(try integer("rejected_outside_table")), lenses: lenses)
        return (catalog, try string("magnification_table_version"))
    }
}
