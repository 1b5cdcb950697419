import Foundation
import SceneModel
import TesseraHDF5
import TesseraSupport

/// Errors reading or writing a PSF store, each naming the store file and what is wrong.
public enum PSFStoreError: Error, Equatable, CustomStringConvertible {
    case missingBand(file: String, band: String, available: [String])
    case invalidName(file: String, what: String, name: String, reason: String)
    case invalidEntry(file: String, group: String, reason: String)
    /// `tessera fit-psf` could not use the PSF image.
    case badImage(file: String, hdu: Int, reason: String)

    public var description: String {
        switch self {
        case let .missingBand(file, band, available):
            return "PSF store \(file): no PSF for band '\(band)' (bands in the store: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case let .invalidName(file, what, name, reason):
            return "PSF store \(file): invalid \(what) name '\(name)': \(reason)"
        case let .invalidEntry(file, group, reason):
            return "PSF store \(file): group \(group): \(reason)"
        case let .badImage(file, hdu, reason):
            return "PSF image \(file) HDU \(hdu): \(reason)"
        }
    }
}

/// One stored PSF: the mixture plus where it came from.
public struct PSFStoreEntry: Sendable, Equatable {
    public var mixture: PSFMixture
    /// The image the mixture was fitted to (path, with HDU), or "" when not from a fit.
    public var sourceImage: String
    /// `PSFFitResult.residualFraction` of the fit; NaN when not from a fit.
    public var fitResidual: Double
    /// `PSFFitResult.missingFluxFraction` of the fit (signed fraction of the image's flux the
    /// mixture misses beyond some radius); NaN when not from a fit.
    public var missingFlux: Double

    public init(mixture: PSFMixture, sourceImage: String = "", fitResidual: Double = .nan, missingFlux: Double = .nan) {
        self.mixture = mixture; self.sourceImage = sourceImage; self.fitResidual = fitResidual; self.missingFlux = missingFlux
    }

    public static func == (a: PSFStoreEntry, b: PSFStoreEntry) -> Bool {
        a.mixture == b.mixture && a.sourceImage == b.sourceImage
            && (a.fitResidual == b.fitResidual || (a.fitResidual.isNaN && b.fitResidual.isNaN))
            && (a.missingFlux == b.missingFlux || (a.missingFlux.isNaN && b.missingFlux.isNaN))
    }
}

/// PSF mixtures per band, and optionally per exposure, in one HDF5 file (as forcepho's PSF store).
///
/// Layout (h5py view; all values in **pixels** of the exposure, see `SceneModel` conventions):
/// - root attribute `format` = "tessera-psf-store-1"
/// - `/<band>/` — the band's PSF: datasets `amplitude`, `x`, `y`, `cxx`, `cxy`, `cyy` [K] float64
///   (amplitudes sum to 1; x, y are offsets of each component from the PSF centre; covariances are
///   intrinsic, i.e. without the pixel response the renderer adds as I/12); attributes
///   `n_components` (int), `source_image` (string), `fit_residual` (float, NaN if not fitted),
///   `missing_flux_fraction` (float: the fraction of the PSF image's flux the mixture misses,
///   `PSFFitResult.missingFluxFraction`; NaN if not fitted)
/// - `/<band>/<exposure>/` — the same datasets and attributes for one exposure's own PSF, which
///   overrides the band's for that exposure. A band group may hold only exposure sub-groups.
public struct PSFStore: Sendable {
    public static let format = "tessera-psf-store-1"
    static let datasetNames = ["amplitude", "x", "y", "cxx", "cxy", "cyy"]

    /// The file this store was read from (for error messages); "" for a store built in memory.
    public private(set) var path: String
    /// Band-level PSFs, keyed by band.
    public var bands: [String: PSFStoreEntry]
    /// Exposure-level PSFs: band → exposure → entry.
    public var exposures: [String: [String: PSFStoreEntry]]

    public init(bands: [String: PSFStoreEntry] = [:], exposures: [String: [String: PSFStoreEntry]] = [:]) {
        self.path = ""; self.bands = bands; self.exposures = exposures
    }

    /// Every band that has a PSF (band-level or for some exposure), sorted.
    public var bandNames: [String] { Set(bands.keys).union(exposures.keys).sorted() }

    /// The PSF for `exposure` of `band`: the exposure's own if stored, else the band's.
    public func psf(band: String, exposure: String? = nil) throws -> PSFMixture {
        try entry(band: band, exposure: exposure).mixture
    }

    public func entry(band: String, exposure: String? = nil) throws -> PSFStoreEntry {
        if let exposure, let e = exposures[band]?[exposure] { return e }
        if let e = bands[band] { return e }
        throw PSFStoreError.missingBand(file: path.isEmpty ? "(in memory)" : path, band: band, available: bandNames)
    }

    /// Add or replace the PSF of a band (exposure nil) or of one exposure of a band.
    public mutating func set(_ entry: PSFStoreEntry, band: String, exposure: String? = nil) {
        if let exposure { exposures[band, default: [:]][exposure] = entry } else { bands[band] = entry }
    }

    /// Write the band PSFs `psfs` and per-exposure PSFs `exposures` (band → exposure → mixture) to
    /// a new store at `url`, replacing any file there.
    public static func write(_ psfs: [String: PSFMixture], exposures: [String: [String: PSFMixture]] = [:], to url: URL) throws {
        try PSFStore(bands: psfs.mapValues { PSFStoreEntry(mixture: $0) },
                     exposures: exposures.mapValues { $0.mapValues { PSFStoreEntry(mixture: $0) } }).write(to: url)
    }

    /// Write this store to `url`. The file is written as `<name>.partial` and renamed, so an
    /// existing store is replaced only by a complete one.
    public func write(to url: URL) throws {
        let target = url.path
        for band in bandNames { try Self.checkName(band, what: "band", file: target) }
        for (band, byExposure) in exposures {
            for (name, _) in byExposure {
                try Self.checkName(name, what: "exposure (band \(band))", file: target)
                guard !Self.datasetNames.contains(name) else {
                    throw PSFStoreError.invalidName(file: target, what: "exposure (band \(band))", name: name,
                                                    reason: "clashes with a dataset name (\(Self.datasetNames.joined(separator: ", ")))")
                }
            }
        }
        for band in bandNames {
            if let e = bands[band] { try e.mixture.validate(name: "band \(band) in \(target)") }
            for (name, e) in exposures[band] ?? [:] { try e.mixture.validate(name: "band \(band) exposure \(name) in \(target)") }
        }
        try writeReplacing(target) { partial in
            let file = try HDF5File.create(partial)
            try file.setAttribute("format", .string(Self.format))
            for band in bandNames {
                try file.createGroup("/\(band)")
                if let e = bands[band] { try Self.writeEntry(e, group: "/\(band)", in: file) }
                for (name, e) in (exposures[band] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    try Self.writeEntry(e, group: "/\(band)/\(name)", in: file)
                }
            }
            try file.close()
        }
    }

    /// Read a store written by `write(to:)`.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard (try? file.attribute("format").stringValue) == Self.format else {
            throw PSFStoreError.invalidEntry(file: path, group: "/", reason: "not a PSF store (root attribute format ≠ \(Self.format))")
        }
        var bands: [String: PSFStoreEntry] = [:]
        var exposures: [String: [String: PSFStoreEntry]] = [:]
        for band in try file.members(of: "/") {
            let group = "/\(band)"
            if try file.exists("\(group)/amplitude") { bands[band] = try Self.readEntry(group: group, in: file) }
            for member in try file.members(of: group) where !Self.datasetNames.contains(member) {
                guard try file.exists("\(group)/\(member)/amplitude") else {
                    throw PSFStoreError.invalidEntry(file: path, group: "\(group)/\(member)", reason: "not an exposure PSF (no amplitude dataset)")
                }
                exposures[band, default: [:]][member] = try Self.readEntry(group: "\(group)/\(member)", in: file)
            }
        }
        self.init(bands: bands, exposures: exposures)
        self.path = path
    }

    static func checkName(_ name: String, what: String, file: String) throws {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != "..",
              name.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value != 127 }) else {
            throw PSFStoreError.invalidName(file: file, what: what, name: name,
                                            reason: "must be non-empty, without '/' or control characters, and not '.' or '..'")
        }
    }

    static func writeEntry(_ e: PSFStoreEntry, group: String, in file: HDF5File) throws {
        try file.createGroup(group)
        let c = e.mixture.components
        try file.write(c.map(\.amplitude), to: "\(group)/amplitude")
        try file.write(c.map(\.x), to: "\(group)/x")
        try file.write(c.map(\.y), to: "\(group)/y")
        try file.write(c.map(\.cxx), to: "\(group)/cxx")
        try file.write(c.map(\.cxy), to: "\(group)/cxy")
        try file.write(c.map(\.cyy), to: "\(group)/cyy")
        try file.setAttribute("n_components", .int(Int64(c.count)), on: group)
        try file.setAttribute("source_image", .string(e.sourceImage), on: group)
        try file.setAttribute("fit_residual", .double(e.fitResidual), on: group)
        try file.setAttribute("missing_flux_fraction", .double(e.missingFlux), on: group)
    }

    static func readEntry(group: String, in file: HDF5File) throws -> PSFStoreEntry {
        var columns: [[Double]] = []
        for name in datasetNames {
            let array = try file.read(Double.self, from: "\(group)/\(name)")
            guard array.shape.count == 1 else {
                throw PSFStoreError.invalidEntry(file: file.path, group: group, reason: "dataset \(name) has shape \(array.shape), expected [K]")
            }
            columns.append(array.values)
        }
        let k = columns[0].count
        guard columns.allSatisfy({ $0.count == k }) else {
            throw PSFStoreError.invalidEntry(file: file.path, group: group,
                                             reason: "datasets \(datasetNames.joined(separator: ", ")) have different lengths \(columns.map(\.count))")
        }
        if let n = try? file.attribute("n_components", of: group).intValue, n != Int64(k) {
            throw PSFStoreError.invalidEntry(file: file.path, group: group, reason: "n_components = \(n) but the datasets hold \(k) components")
        }
        let mixture = PSFMixture(components: (0..<k).map {
            GaussianComponent(amplitude: columns[0][$0], x: columns[1][$0], y: columns[2][$0],
                              cxx: columns[3][$0], cxy: columns[4][$0], cyy: columns[5][$0])
        })
        do { try mixture.validate(name: "\(group) in \(file.path)") } catch {
            throw PSFStoreError.invalidEntry(file: file.path, group: group, reason: "\(error)")
        }
        let source = (try? file.attribute("source_image", of: group).stringValue) ?? ""
        let residual = (try? file.attribute("fit_residual", of: group).doubleValue) ?? .nan
        // Stores written before the attribute existed: unknown (NaN).
        let missing = (try? file.attribute("missing_flux_fraction", of: group).doubleValue) ?? .nan
        return PSFStoreEntry(mixture: mixture, sourceImage: source, fitResidual: residual, missingFlux: missing)
    }
}
