import Foundation
import ImageStores
import SceneModel
import TesseraFITS

/// The source catalog as a FITS binary table (forcepho-like), the input and the output of scene fits.
///
/// Columns (one row per source):
/// | column     | type    | unit   | meaning                                               |
/// |------------|---------|--------|-------------------------------------------------------|
/// | `id`       | int64   |        | catalog identifier                                    |
/// | `ra`,`dec` | double  | deg    | position                                              |
/// | `q`        | double  |        | axis ratio b/a                                        |
/// | `pa`       | double  | rad    | position angle of the major axis, east of north       |
/// | `sersic`   | double  |        | Sérsic index n                                        |
/// | `rhalf`    | double  | arcsec | half-light radius along the major axis (or            |
/// |            |         |        | circularized, r_major·√q, when read with `.circularized`) |
/// | `is_point` | logical |        | optional; point source (default false)                |
/// | `roi`      | double  | arcsec | optional; radius of the pixels fitted around the source|
/// | `<BAND>`   | double  | flux   | one flux column per band, named by the band (or by a  |
/// |            |         |        | pattern such as `flux_{band}`)                        |
/// Output catalogs always name flux columns by the band and give `rhalf` along the major axis; they add `<column>_unc` posterior standard deviations, `n_iter`, `flagged` and the `flags` bitmask (`FitFlags`: 1 given up or outside every exposure, 2 regularised Laplace covariance, 4 not converged).
public struct SceneCatalog: Sendable, Equatable {
    public var bands: [String]
    public var sources: [Source]
    /// Per-source region of interest in arcsec (nil where the catalog has none).
    public var roi: [Double?]

    public init(bands: [String], sources: [Source], roi: [Double?]? = nil) {
        self.bands = bands
        self.sources = sources
        self.roi = roi ?? Array(repeating: nil, count: sources.count)
    }

    static let required = ["id", "ra", "dec", "q", "pa", "sersic", "rhalf"]

    /// Reads a catalog; `bands` picks (and orders) the flux columns, named by `fluxColumn` with
    /// `{band}` replaced by the band (default: the band itself; e.g. `flux_{band}` reads
    /// `flux_F200W`). `rhalf` is the half-light radius along the major axis (`.major`, the
    /// default) or circularized (`.circularized`, r_circ = r_major·√q), converted here to the
    /// major axis r_major = r_circ/√q. Every problem names the file and the column or row.
    public static func read(_ path: String, bands: [String], fluxColumn: String = "{band}",
                            rhalfConvention: RHalfConvention = .major) throws -> SceneCatalog {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SceneInputError(file: path, field: nil, message: "catalog file does not exist")
        }
        let fits = try FITSFile(path: path)
        defer { try? fits.close() }
        let hdu = try firstTableHDU(fits, path: path)
        let names = try fits.columnNames(hdu: hdu)
        func has(_ n: String) -> Bool { names.contains { $0.caseInsensitiveCompare(n) == .orderedSame } }
        let fluxNames = try bands.map { try fluxColumnName(fluxColumn, band: $0) }
        for c in required + fluxNames where !has(c) {
            throw SceneInputError(file: path, field: c, message: "catalog has no column '\(c)' (columns: \(names.joined(separator: ", ")))")
        }
        let rows = try fits.rowCount(hdu: hdu)
        guard rows > 0 else { throw SceneInputError(file: path, field: nil, message: "catalog is empty") }
        func doubles(_ n: String) throws -> [Double] {
            switch try fits.readColumn(n, hdu: hdu).data {
            case let .double(v): return v
            case let .float(v): return v.map(Double.init)
            case let .int32(v): return v.map(Double.init)
            case let .int64(v): return v.map(Double.init)
            default: throw SceneInputError(file: path, field: n, message: "column must be numeric")
            }
        }
        let ids: [Int64]
        switch try fits.readColumn("id", hdu: hdu).data {
        case let .int64(v): ids = v
        case let .int32(v): ids = v.map(Int64.init)
        case let .double(v): ids = v.map { Int64($0) }
        default: throw SceneInputError(file: path, field: "id", message: "column must be integer")
        }
        let ra = try doubles("ra"), dec = try doubles("dec"), q = try doubles("q"), pa = try doubles("pa")
        let n = try doubles("sersic")
        var rh = try doubles("rhalf")
        if rhalfConvention == .circularized {
            for i in rh.indices where q[i] > 0 { rh[i] /= q[i].squareRoot() }
            if let i = q.firstIndex(where: { !($0 > 0) }) {
                throw SceneInputError(file: path, field: "q", message: "row \(i) (id \(ids[i])): a circularized rhalf needs q > 0, got \(q[i])")
            }
        }
        let fluxes = try fluxNames.map { try doubles($0) }
        var isPoint = [Bool](repeating: false, count: rows)
        if has("is_point") {
            guard case let .bool(v) = try fits.readColumn("is_point", hdu: hdu).data else {
                throw SceneInputError(file: path, field: "is_point", message: "column must be logical")
            }
            isPoint = v
        }
        var roi = [Double?](repeating: nil, count: rows)
        if has("roi") { roi = try doubles("roi").map { $0 > 0 && $0.isFinite ? $0 : nil } }
        var sources: [Source] = []
        for i in 0..<rows {
            let s = Source(id: ids[i], ra: ra[i], dec: dec[i], flux: fluxes.map { $0[i] }, q: q[i], pa: pa[i],
                           sersic: n[i], rhalf: rh[i], isPoint: isPoint[i])
            let values: [(String, Double)] = [("ra", s.ra), ("dec", s.dec), ("q", s.q), ("pa", s.pa), ("sersic", s.sersic), ("rhalf", s.rhalf)]
                + zip(fluxNames, s.flux).map { ($0, $1) }
            if let bad = values.first(where: { !$0.1.isFinite }) {
                throw SceneInputError(file: path, field: bad.0, message: "row \(i) (id \(s.id)) is not finite")
            }
            sources.append(s)
        }
        if Set(ids).count != ids.count { throw SceneInputError(file: path, field: "id", message: "ids are not unique") }
        return SceneCatalog(bands: bands, sources: sources, roi: roi)
    }

    /// The flux column of `band` under `pattern` (which must contain `{band}`).
    public static func fluxColumnName(_ pattern: String, band: String) throws -> String {
        guard pattern.contains("{band}") else {
            throw SceneInputError(file: "flux_column", field: nil, message: "pattern '\(pattern)' must contain {band}")
        }
        return pattern.replacingOccurrences(of: "{band}", with: band)
    }

    static func firstTableHDU(_ fits: FITSFile, path: String) throws -> Int {
        let count = try fits.hduCount()
        for h in 0..<count where try fits.hduType(at: h) == .binaryTable { return h }
        throw SceneInputError(file: path, field: nil, message: "no binary table HDU")
    }

    /// pa folded into (−π/2, π/2] (the model is π-periodic in pa). Fits keep pa continuous (their
    /// pa interval is centred on the current value, see `PatchPosterior`), so chains and
    /// `state.json` may leave that range; output catalogs and `/state/pa` are folded.
    public static func wrappedPA(_ pa: Double) -> Double {
        guard pa.isFinite else { return pa }
        var x = pa.truncatingRemainder(dividingBy: .pi)
        if x > .pi / 2 { x -= .pi } else if x <= -.pi / 2 { x += .pi }
        return x
    }

    /// Writes the catalog (optionally with uncertainties, iteration counts and flags) to a new FITS file.
    /// `flags` is the `FitFlags` bitmask per source (column `flags`, int64; bits in `FitFlags`).
    public func write(_ path: String, uncertainties: [[String: Double]]? = nil, iterations: [Int]? = nil,
                      flagged: [Bool]? = nil, flags: [Int]? = nil, converged: [Bool]? = nil, passes: [Int]? = nil,
                      extname: String = "CATALOG") throws {
        try? FileManager.default.removeItem(atPath: path)
        let fits = try FITSFile(creatingAt: path, overwrite: true)
        var cols: [FITSColumn] = [
            .int64("id", sources.map(\.id)),
            .double("ra", sources.map(\.ra), unit: "deg"), .double("dec", sources.map(\.dec), unit: "deg"),
            .double("q", sources.map(\.q)), .double("pa", sources.map { Self.wrappedPA($0.pa) }, unit: "rad"),
            .double("sersic", sources.map(\.sersic)), .double("rhalf", sources.map(\.rhalf), unit: "arcsec"),
            .bool("is_point", sources.map(\.isPoint)),
        ]
        for (b, band) in bands.enumerated() { cols.append(.double(band, sources.map { $0.flux[b] })) }
        if roi.contains(where: { $0 != nil }) { cols.append(.double("roi", roi.map { $0 ?? 0 }, unit: "arcsec")) }
        if let unc = uncertainties {
            let keys = ["ra", "dec", "q", "pa", "sersic", "rhalf"] + bands
            for k in keys { cols.append(.double("\(k)_unc", unc.map { $0[k] ?? .nan })) }
        }
        if let it = iterations { cols.append(.int64("n_iter", it.map(Int64.init))) }
        if let f = flagged { cols.append(.bool("flagged", f)) }
        if let f = flags { cols.append(.int64("flags", f.map(Int64.init))) }
        if let c = converged { cols.append(.bool("converged", c)) }
        if let p = passes { cols.append(.int64("n_pass", p.map(Int64.init))) }
        _ = try fits.appendTable(cols, extname: extname)
        try fits.writeKeyword("BANDS", .string(bands.joined(separator: ",")), comment: "flux columns, in order")
        try fits.close()
    }
}

/// Which half-light radius a catalog's `rhalf` column holds.
public enum RHalfConvention: String, Sendable, Codable, Equatable, CaseIterable {
    /// Along the major axis (Tessera's own convention and that of its output catalogs).
    case major
    /// Circularized, r_circ = r_major·√q; read as r_major = r_circ/√q.
    case circularized
}
