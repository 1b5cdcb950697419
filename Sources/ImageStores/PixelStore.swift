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
    /// Sky level already subtracted from the stored data, in stored units (counts, or nJy when preprocess converted the pixels).
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
    /// `uncertaintyHDU` (or inverse variance with `weights: true`, e.g. a JWST/HST `WHT`), optional
    /// mask in `maskHDU`. HDUs are given by 0-based number or by EXTNAME (`SCI`, `ERR`, `WHT`, `DQ`).
    /// The mask drops a pixel whose value is non-zero, or, with `dqBadBits`, whose integer value
    /// shares a bit with that mask (`DQ & dqBadBits != 0`, a data-quality bit mask).
    ///
    /// Header keywords are looked up in the science HDU, then in the primary HDU (where JWST and
    /// HST keep FILTER and, for older HST files, PHOTFNU). The band comes from FILTER, the sky
    /// from SKY (in the image's own units, default 0), the flux calibration from `FluxCalibration`
    /// (see there for the precedence of CALIB, ABMAG/ZP, BUNIT, PHOTFNU, PHOTFLAM and MAGZERO).
    /// Pixels with NaN data, zero/NaN/negative weight or a mask bit are dropped (ierr = 0) and
    /// counted.
    public static func build(images: [String], output: String, scienceHDU: HDUSelector = 1, uncertaintyHDU: HDUSelector = 2,
                             maskHDU: HDUSelector? = nil, weights: Bool = false, dqBadBits: UInt64? = nil,
                             log: (String) -> Void = { _ in }) throws -> [Ingested] {
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
                    let sciIndex = try scienceHDU.index(in: fits)
                    let uncIndex = try uncertaintyHDU.index(in: fits)
                    let header = try fits.readHeader(hdu: sciIndex)
                    let primary = sciIndex == 0 ? header : try fits.readHeader(hdu: 0)
                    let keywords = ExposureKeywords(science: header, primary: primary)
                    if !weights, let ext = try fits.readHeader(hdu: uncIndex).string(ifPresent: "EXTNAME"),
                       ["WHT", "IVM"].contains(ext.trimmingCharacters(in: .whitespaces).uppercased()) {
                        throw SceneInputError(file: path, field: "HDU \(uncIndex) (\(ext))",
                                              message: "the uncertainty HDU holds weights (inverse variance); pass --weights (weights: true) or choose the 1σ HDU (e.g. ERR)")
                    }
                    let wcs = try WCS(header: header)
                    let sci = try fits.readImage(Double.self, hdu: sciIndex)
                    let unc = try fits.readImage(Double.self, hdu: uncIndex)
                    guard sci.shape.count == 2, unc.shape == sci.shape else {
                        throw SceneInputError(file: path, field: "HDU \(uncIndex)", message: "uncertainty image shape \(unc.shape) differs from science \(sci.shape)")
                    }
                    var mask: FITSImage<Double>?
                    if let maskHDU {
                        let m = try maskHDU.index(in: fits)
                        mask = try fits.readImage(Double.self, hdu: m)
                        guard mask!.shape == sci.shape else {
                            throw SceneInputError(file: path, field: "HDU \(m)", message: "mask shape differs from science")
                        }
                    }
                    guard let band = try keywords.string("FILTER") else {
                        throw SceneInputError(file: path, field: "FILTER", message: "science header has no FILTER keyword (the band)")
                    }
                    let flux = try FluxCalibration(keywords, file: path, hdu: sciIndex)
                    let calibration = flux.calibration, scale = flux.scale
                    if let note = flux.note { log("\(path): \(note)") }
                    let rawSky = try keywords.double("SKY") ?? 0
                    let sky = rawSky * scale
                    var name = try keywords.string("EXPNAME") ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
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
                            // Same conversion for the noise: σ scales by `scale`, inverse variance by 1/scale².
                            let iv: Double = weights ? (u > 0 && u.isFinite ? (u / (scale * scale)).squareRoot() : 0)
                                                     : (u > 0 && u.isFinite ? 1 / (u * scale) : 0)
                            let masked = mask.map { m in
                                guard let bits = dqBadBits else { return m[x, y] != 0 }
                                let q = m[x, y]
                                guard q.isFinite, q >= 0, q < 18_446_744_073_709_551_616 else { return true }
                                return UInt64(q) & bits != 0
                            } ?? false
                            let i = y * w + x
                            if v.isFinite, iv > 0, iv.isFinite, !masked {
                                data[i] = Float(scale == 1 ? v - rawSky : (v - rawSky) * scale); ierr[i] = Float(iv)
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

extension PixelStore {
    /// A DQ bad-bit mask from text: a non-negative integer (decimal, or hexadecimal with `0x`),
    /// or a comma-separated list of bit numbers 0–63 (`0,2,9` = 1 + 4 + 512). A single number is
    /// the mask itself, so `--dq-bad-bits 1` is bit 0; write `0,` ... for lists.
    public static func parseBitMask(_ text: String) throws -> UInt64 {
        let t = text.trimmingCharacters(in: .whitespaces)
        func bad() -> SceneInputError {
            SceneInputError(file: "--dq-bad-bits", field: nil, message: "'\(text)' is neither an integer mask nor a comma list of bit numbers 0-63")
        }
        if t.contains(",") {
            var mask: UInt64 = 0
            for part in t.split(separator: ",", omittingEmptySubsequences: true) {
                guard let b = Int(part.trimmingCharacters(in: .whitespaces)), (0...63).contains(b) else { throw bad() }
                mask |= 1 << UInt64(b)
            }
            guard mask != 0 else { throw bad() }
            return mask
        }
        if t.lowercased().hasPrefix("0x"), let v = UInt64(t.dropFirst(2), radix: 16) { return v }
        guard let v = UInt64(t) else { throw bad() }
        return v
    }
}

/// An HDU chosen by 0-based number or by EXTNAME (`--sci-hdu 1` or `--sci-hdu SCI`).
public enum HDUSelector: Sendable, Equatable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    case number(Int)
    case name(String)

    public init(integerLiteral value: Int) { self = .number(value) }

    /// A decimal number is an HDU number, anything else an EXTNAME.
    public init(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let n = Int(t), n >= 0 { self = .number(n) } else { self = .name(t) }
    }

    public var description: String {
        switch self {
        case let .number(n): return "\(n)"
        case let .name(s): return s
        }
    }

    /// The 0-based HDU number in `fits`; an EXTNAME that no HDU has is an error naming the file.
    public func index(in fits: FITSFile) throws -> Int {
        switch self {
        case let .number(n): return n
        case let .name(s):
            do {
                return try fits.moveToHDU(named: s).index
            } catch {
                throw SceneInputError(file: fits.path, field: "EXTNAME \(s)", message: "no HDU is named '\(s)'")
            }
        }
    }
}

/// Header keywords of one exposure: the science HDU's, falling back to the primary HDU's.
struct ExposureKeywords {
    var science: FITSHeader
    var primary: FITSHeader

    func header(for key: String) -> FITSHeader? {
        science.contains(key) ? science : primary.contains(key) ? primary : nil
    }
    func double(_ key: String) throws -> Double? { try header(for: key)?.double(ifPresent: key) }
    func string(_ key: String) throws -> String? { try header(for: key)?.string(ifPresent: key) }
}

/// How an exposure's pixel values become catalog fluxes (nJy for everything but CALIB).
///
/// Precedence (the first that applies wins; each keyword from the science header, else the primary):
/// 1. `CALIB`: counts per catalog flux unit; pixels kept as they are.
/// 2. `ABMAG`, then `ZP`: AB zero point of the pixel values, catalog fluxes in nJy; pixels kept,
///    calibration 10^(−0.4 (31.4 − ZP)) counts per nJy. (1 and 2 are the original keywords and
///    behave exactly as before.)
/// 3. `BUNIT` a flux density: `nJy`, `uJy`, `mJy`, `Jy` per pixel, or `MJy/sr` (JWST) with
///    `PIXAR_SR`, the pixel area in steradians: nJy = value × PIXAR_SR × 10¹⁵.
/// 4. `PHOTFNU` (HST, Jy·s/e⁻, for count-rate images: BUNIT absent or per second, e.g.
///    `ELECTRONS/S`): nJy = value × PHOTFNU × 10⁹.
/// 5. `PHOTFLAM` (erg/cm²/Å/e⁻) with `PHOTPLAM` (Å), likewise for count rates:
///    nJy = value × PHOTFLAM × PHOTPLAM² / c × 10³² (c in Å/s).
/// 6. `MAGZERO`, then `MAGZP`: AB zero points like ABMAG.
/// For 3–5 the science, uncertainty (σ) and SKY values are multiplied by the factor (inverse
/// variances divided by its square) and stored in nJy with calibration 1. `PHOTZPT` is not used:
/// it is an ST-magnitude zero point.
struct FluxCalibration {
    /// Stored counts per catalog flux unit.
    var calibration: Double
    /// Factor applied to the pixel values before storing (1 = kept as they are).
    var scale: Double
    /// What was done, for the log (nil for CALIB, ABMAG and ZP, as before).
    var note: String?

    init(_ k: ExposureKeywords, file: String, hdu: Int) throws {
        func fail(_ keyword: String, _ message: String) -> SceneInputError {
            SceneInputError(file: file, field: "HDU \(hdu): \(keyword)", message: message)
        }
        func positive(_ v: Double, _ keyword: String) throws -> Double {
            guard v > 0, v.isFinite else { throw fail(keyword, "must be positive and finite, got \(v)") }
            return v
        }
        func abZeroPoint(_ zp: Double) -> Double { Foundation.pow(10, -0.4 * (31.4 - zp)) }
        scale = 1
        note = nil
        if let c = try k.double("CALIB") {
            calibration = try positive(c, "CALIB")
            return
        }
        if let zp = try k.double("ABMAG") ?? k.double("ZP") {
            calibration = try positive(abZeroPoint(zp), "CALIB")
            return
        }
        calibration = 1
        let bunit = try k.string("BUNIT")?.trimmingCharacters(in: .whitespaces) ?? ""
        // FITS units are case-sensitive: mJy is a millijansky, MJy a megajansky.
        let unit = bunit.replacingOccurrences(of: " ", with: "")
        let perPixel: [String: Double] = ["nJy": 1, "uJy": 1e3, "µJy": 1e3, "mJy": 1e6, "Jy": 1e9, "MJy": 1e15]
        if let f = perPixel[unit] {
            scale = f
            note = f == 1 ? nil : "BUNIT = '\(bunit)': pixels × \(f) -> nJy"
            return
        }
        if ["MJy/sr", "MJy.sr-1", "MJy.sr**-1", "MJysr-1"].contains(unit) {
            guard let area = try k.double("PIXAR_SR") else {
                throw fail("PIXAR_SR", "BUNIT = '\(bunit)' needs PIXAR_SR (pixel area in steradians) to convert to nJy per pixel")
            }
            scale = try positive(area, "PIXAR_SR") * 1e15
            note = "BUNIT = '\(bunit)', PIXAR_SR = \(area): pixels × \(scale) -> nJy"
            return
        }
        let lower = unit.lowercased()
        let countRate = lower.isEmpty || lower.hasSuffix("/s") || lower.hasSuffix("/sec") || lower.hasSuffix("s-1") || lower.hasSuffix("s**-1")
        if let fnu = try k.double("PHOTFNU"), countRate {
            scale = try positive(fnu, "PHOTFNU") * 1e9
            note = "PHOTFNU = \(fnu) Jy s/e- (BUNIT = '\(bunit)'): pixels × \(scale) -> nJy"
            return
        }
        if let flam = try k.double("PHOTFLAM"), let plam = try k.double("PHOTPLAM"), countRate {
            let c = 2.99792458e18  // Å/s
            scale = try positive(flam, "PHOTFLAM") * Foundation.pow(try positive(plam, "PHOTPLAM"), 2) / c * 1e32
            note = "PHOTFLAM = \(flam), PHOTPLAM = \(plam) (BUNIT = '\(bunit)'): pixels × \(scale) -> nJy"
            return
        }
        if let zp = try k.double("MAGZERO") ?? k.double("MAGZP") {
            calibration = try positive(abZeroPoint(zp), "MAGZERO")
            note = "AB zero point \(zp) (MAGZERO/MAGZP)"
            return
        }
        let hasPhot = try k.double("PHOTFNU") != nil || k.double("PHOTFLAM") != nil
        if !countRate, hasPhot {
            throw fail("BUNIT", "BUNIT = '\(bunit)' is not a count rate, so PHOTFNU/PHOTFLAM do not apply (divide by the exposure time first, or give CALIB)")
        }
        throw fail(bunit.isEmpty ? "CALIB" : "BUNIT",
                   "no flux calibration: none of CALIB, ABMAG, ZP, BUNIT as a flux density (nJy, uJy, mJy, Jy, MJy/sr with PIXAR_SR), "
                   + "PHOTFNU, PHOTFLAM with PHOTPLAM, MAGZERO or MAGZP" + (bunit.isEmpty ? "" : " (BUNIT = '\(bunit)' is not one of these)"))
    }
}
