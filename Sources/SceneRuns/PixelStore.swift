import Astrometry
import Foundation
import SceneModel
import TesseraFITS
import TesseraHDF5
import TesseraSupport

/// What the pixel store records about one exposure (forcepho's "metadata store").
public struct ExposureInfo: Sendable, Codable, Equatable {
    public var name: String
    public var band: String
    /// Image size in pixels.
    public var width: Int
    public var height: Int
    /// Counts per catalog flux unit.
    public var calibration: Double
    /// Sky level already subtracted from the stored data, counts.
    public var sky: Double
    /// The PSF store key: an exposure-specific PSF is looked up under (band, name), else the band's.
    public var psfBand: String
    /// The exposure's FITS file.
    public var sourceFile: String
    /// TAN WCS (FITS conventions: CRPIX 1-based, CD in degrees per pixel).
    public var crval1, crval2, crpix1, crpix2, cd11, cd12, cd21, cd22: Double

    public var wcs: WCS {
        get throws {
            try WCS(crval1: crval1, crval2: crval2, crpix1: crpix1, crpix2: crpix2, cd11: cd11, cd12: cd12, cd21: cd21, cd22: cd22)
        }
    }
}

/// The HDF5 pixel store `tessera preprocess` writes: every exposure's sky-subtracted counts and
/// inverse errors (1/σ, with 0 marking a dropped pixel: NaN data, zero or non-finite weight, or
/// masked) plus its metadata, so patches for any sky region are read as small hyperslabs without
/// touching the FITS files again.
///
/// Layout: `/exposures/<name>/data` and `/exposures/<name>/ierr`, float32 `[height][width]`
/// (row y, column x), with the `ExposureInfo` fields as attributes of `/exposures/<name>`;
/// root attributes `format` = `tessera-pixel-store-1` and `bands`.
public final class PixelStore {
    public static let format = "tessera-pixel-store-1"
    public let path: String
    public let exposures: [ExposureInfo]
    let file: HDF5File

    /// Opens a store read-only (every rank may do this at once).
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SceneInputError(file: path, field: nil, message: "pixel store does not exist (run `tessera preprocess` first)")
        }
        self.path = path
        let file = try HDF5File.open(path)
        self.file = file
        guard (try? file.attribute("format"))?.stringValue == Self.format else {
            throw SceneInputError(file: path, field: "format", message: "not a Tessera pixel store (expected format \(Self.format))")
        }
        var infos: [ExposureInfo] = []
        for name in try file.members(of: "/exposures").sorted() {
            let g = "/exposures/\(name)"
            func d(_ k: String) throws -> Double {
                guard let v = try file.attribute(k, of: g).doubleValue else {
                    throw SceneInputError(file: path, field: "\(g)@\(k)", message: "attribute is not a number")
                }
                return v
            }
            func s(_ k: String) throws -> String {
                guard let v = try file.attribute(k, of: g).stringValue else {
                    throw SceneInputError(file: path, field: "\(g)@\(k)", message: "attribute is not a string")
                }
                return v
            }
            infos.append(ExposureInfo(name: name, band: try s("band"), width: Int(try d("width")), height: Int(try d("height")),
                                      calibration: try d("calibration"), sky: try d("sky"), psfBand: try s("psf_band"),
                                      sourceFile: try s("source_file"), crval1: try d("crval1"), crval2: try d("crval2"),
                                      crpix1: try d("crpix1"), crpix2: try d("crpix2"), cd11: try d("cd11"), cd12: try d("cd12"),
                                      cd21: try d("cd21"), cd22: try d("cd22")))
        }
        exposures = infos
    }

    deinit { try? file.close() }

    /// Reads a rectangle [x0, x0+w) × [y0, y0+h) of one exposure: (data, ierr), row-major by y.
    public func read(exposure: String, x0: Int, y0: Int, width: Int, height: Int) throws -> (data: [Float], ierr: [Float]) {
        let g = "/exposures/\(exposure)"
        let data = try file.dataset("\(g)/data").read(Float.self, start: [y0, x0], count: [height, width]).values
        let ierr = try file.dataset("\(g)/ierr").read(Float.self, start: [y0, x0], count: [height, width]).values
        return (data, ierr)
    }

    /// Whole-image read (residual images in postprocess).
    public func readAll(exposure: ExposureInfo) throws -> (data: [Float], ierr: [Float]) {
        try read(exposure: exposure.name, x0: 0, y0: 0, width: exposure.width, height: exposure.height)
    }

    /// Summary of one preprocessed exposure.
    public struct Ingested: Sendable {
        public var info: ExposureInfo
        public var dropped: Int
        public var used: Int
    }

    /// Builds a store from FITS exposures: science in HDU `scienceHDU`, 1σ uncertainty in
    /// `uncertaintyHDU` (or inverse variance with `weights: true`), optional mask in `maskHDU`
    /// (non-zero = bad). The band comes from the FILTER keyword, the calibration from CALIB
    /// (counts per catalog flux unit) or else ABMAG/ZP (AB zero point, catalog fluxes in nJy),
    /// the sky from SKY (default 0). Pixels with NaN data, zero/NaN/negative weight or a mask
    /// bit are dropped (ierr = 0) and counted.
    public static func build(images: [String], output: String, scienceHDU: Int = 1, uncertaintyHDU: Int = 2,
                             maskHDU: Int? = nil, weights: Bool = false, log: (String) -> Void = { _ in }) throws -> [Ingested] {
        guard !images.isEmpty else { throw SceneInputError(file: output, field: "images", message: "no exposures given") }
        var results: [Ingested] = []
        try writeReplacing(output) { tmp in
            let store = try HDF5File.create(tmp)
            var names = Set<String>()
            var bands: [String] = []
            do {
                for path in images {
                    guard FileManager.default.fileExists(atPath: path) else {
                        throw SceneInputError(file: path, field: nil, message: "exposure file does not exist")
                    }
                    let fits = try FITSFile(path: path)
                    defer { try? fits.close() }
                    let header = try fits.readHeader(hdu: scienceHDU)
                    let wcs = try WCS(header: header)
                    let sci = try fits.readImage(Double.self, hdu: scienceHDU)
                    let unc = try fits.readImage(Double.self, hdu: uncertaintyHDU)
                    guard sci.shape.count == 2, unc.shape == sci.shape else {
                        throw SceneInputError(file: path, field: "HDU \(uncertaintyHDU)", message: "uncertainty image shape \(unc.shape) differs from science \(sci.shape)")
                    }
                    var mask: FITSImage<Double>?
                    if let m = maskHDU {
                        mask = try fits.readImage(Double.self, hdu: m)
                        guard mask!.shape == sci.shape else {
                            throw SceneInputError(file: path, field: "HDU \(m)", message: "mask shape differs from science")
                        }
                    }
                    guard let band = try header.string(ifPresent: "FILTER") else {
                        throw SceneInputError(file: path, field: "FILTER", message: "science header has no FILTER keyword (the band)")
                    }
                    let calibration: Double
                    if let c = try header.double(ifPresent: "CALIB") {
                        calibration = c
                    } else if let zp = try header.double(ifPresent: "ABMAG") ?? header.double(ifPresent: "ZP") {
                        calibration = Foundation.pow(10, -0.4 * (31.4 - zp))
                    } else {
                        throw SceneInputError(file: path, field: "CALIB", message: "science header has neither CALIB nor ABMAG/ZP (flux calibration)")
                    }
                    guard calibration > 0, calibration.isFinite else {
                        throw SceneInputError(file: path, field: "CALIB", message: "calibration must be positive, got \(calibration)")
                    }
                    let sky = try header.double(ifPresent: "SKY") ?? 0
                    var name = try header.string(ifPresent: "EXPNAME") ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                    name = name.replacingOccurrences(of: "/", with: "_")
                    guard names.insert(name).inserted else {
                        throw SceneInputError(file: path, field: "EXPNAME", message: "exposure name '\(name)' appears twice")
                    }
                    if !bands.contains(band) { bands.append(band) }
                    let w = sci.width, h = sci.height
                    var data = [Float](repeating: 0, count: w * h), ierr = data
                    var dropped = 0
                    for y in 0..<h {
                        for x in 0..<w {
                            let v = sci[x, y], u = unc[x, y]
                            let iv: Double = weights ? (u > 0 && u.isFinite ? u.squareRoot() : 0) : (u > 0 && u.isFinite ? 1 / u : 0)
                            let masked = mask.map { $0[x, y] != 0 } ?? false
                            let i = y * w + x
                            if v.isFinite, iv > 0, iv.isFinite, !masked {
                                data[i] = Float(v - sky); ierr[i] = Float(iv)
                            } else {
                                dropped += 1
                            }
                        }
                    }
                    let g = "/exposures/\(name)"
                    try store.write(data, shape: [h, w], to: "\(g)/data")
                    try store.write(ierr, shape: [h, w], to: "\(g)/ierr")
                    let info = ExposureInfo(name: name, band: band, width: w, height: h, calibration: calibration, sky: sky,
                                            psfBand: band, sourceFile: path, crval1: wcs.crval1, crval2: wcs.crval2,
                                            crpix1: wcs.crpix1, crpix2: wcs.crpix2, cd11: wcs.cd11, cd12: wcs.cd12,
                                            cd21: wcs.cd21, cd22: wcs.cd22)
                    for (k, v) in [("width", Double(w)), ("height", Double(h)), ("calibration", calibration), ("sky", sky),
                                   ("crval1", wcs.crval1), ("crval2", wcs.crval2), ("crpix1", wcs.crpix1), ("crpix2", wcs.crpix2),
                                   ("cd11", wcs.cd11), ("cd12", wcs.cd12), ("cd21", wcs.cd21), ("cd22", wcs.cd22)] {
                        try store.setAttribute(k, .double(v), on: g)
                    }
                    try store.setAttribute("band", .string(band), on: g)
                    try store.setAttribute("psf_band", .string(band), on: g)
                    try store.setAttribute("source_file", .string(path), on: g)
                    try store.setAttribute("dropped_pixels", .int(Int64(dropped)), on: g)
                    let used = w * h - dropped
                    if used == 0 {
                        log("warning: \(path): every pixel is masked, NaN or zero-weight; the exposure is kept but contributes nothing")
                    } else if dropped > 0 {
                        log("\(path): dropped \(dropped) of \(w * h) pixels (NaN, zero weight or masked)")
                    }
                    results.append(Ingested(info: info, dropped: dropped, used: used))
                }
                try store.setAttribute("format", .string(format))
                try store.setAttribute("bands", .string(bands.joined(separator: ",")))
                try store.close()
            } catch {
                try? store.close()
                throw error
            }
        }
        return results
    }
}
