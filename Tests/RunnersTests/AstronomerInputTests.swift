import Foundation
import Inference
@testable import ImageStores
@testable import SceneRuns
import TesseraFITS
import TesseraHDF5
import TesseraRun
import TesseraTestSupport
import XCTest

/// Exposures and catalogs as the observatories and surveys write them: a JWST `i2d` (SCI in
/// MJy/sr with PIXAR_SR, ERR, WHT, DQ; PC/CDELT TAN WCS; FILTER in the primary header) and an HST
/// `drz` (SCI in electrons/s, PHOTFNU/PHOTFLAM/PHOTPLAM in the primary header, CD-matrix WCS,
/// WHT) go through preprocess with their headers unedited and are stored in nJy; DQ bit masks;
/// catalogs with `flux_{band}` columns and circularized radii. XCTest: HDF5 is not thread-safe here.
final class AstronomerInputTests: XCTestCase {
    var dir: String!
    let n = 16
    // Real-looking values: NIRCam short-wave pixel area (0.031")² and WFC3/IR F160W photometry.
    let pixarSR = 2.2587e-14
    let photfnu = 1.5187e-07, photflam = 1.9275e-20, photplam = 15369.176

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory(prefix: "astro-input").path
    }

    func science(_ i: Int) -> Double { 0.05 + 0.013 * Double(i % 37) - 0.002 * Double(i % 5) }
    func sigma(_ i: Int) -> Double { 0.01 + 0.0007 * Double(i % 11) }
    func weight(_ i: Int) -> Double { 1 / (sigma(i) * sigma(i)) }
    /// DQ: bit 0 (DO_NOT_USE) on pixels 3 and 40, bit 1 on 7, bit 2 on 9 and 40, bit 9 on 100.
    let dq: [Int: Double] = [3: 1, 40: 5, 7: 2, 9: 4, 100: 512]

    func image(_ f: (Int) -> Double) -> FITSImage<Double> {
        FITSImage(width: n, height: n, pixels: (0..<(n * n)).map(f))
    }

    /// A JWST NIRCam-style `_i2d.fits`, keywords where the pipeline puts them.
    func writeI2D(_ name: String = "jw01345-o001_t001_nircam_clear-f200w_i2d", pixar: Bool = true) throws -> String {
        let path = dir + "/\(name).fits"
        let f = try FITSFile(creatingAt: path, overwrite: true)
        try f.appendImage(FITSImage<Float>(shape: [1], pixels: [0]))
        for (k, v) in [("TELESCOP", "JWST"), ("INSTRUME", "NIRCAM"), ("FILTER", "F200W"), ("PUPIL", "CLEAR")] {
            try f.writeKeyword(k, .string(v), hdu: 0)
        }
        let sci = try f.appendImage(image(science), extname: "SCI")
        try f.writeKeyword("BUNIT", .string("MJy/sr"), comment: "physical units of the array values", hdu: sci)
        if pixar {
            try f.writeKeyword("PIXAR_SR", .double(pixarSR), comment: "Nominal pixel area in steradians", hdu: sci)
            try f.writeKeyword("PIXAR_A2", .double(pixarSR * 206264.806247 * 206264.806247), hdu: sci)
        }
        try f.writeKeyword("PHOTMJSR", .double(0.27), hdu: sci)
        for (k, v) in [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CUNIT1", "deg"), ("CUNIT2", "deg")] {
            try f.writeKeyword(k, .string(v), hdu: sci)
        }
        for (k, v) in [("CRPIX1", 8.5), ("CRPIX2", 8.5), ("CRVAL1", 53.16), ("CRVAL2", -27.78),
                       ("CDELT1", 0.031 / 3600), ("CDELT2", 0.031 / 3600),
                       ("PC1_1", -0.9), ("PC1_2", 0.43588989), ("PC2_1", 0.43588989), ("PC2_2", 0.9)] {
            try f.writeKeyword(k, .double(v), hdu: sci)
        }
        let err = try f.appendImage(image(sigma), extname: "ERR")
        try f.writeKeyword("BUNIT", .string("MJy/sr"), hdu: err)
        try f.appendImage(image(weight), extname: "WHT")
        try f.appendImage(image { self.dq[$0] ?? 0 }, extname: "DQ")
        try f.close()
        return path
    }

    /// An HST WFC3/IR-style `_drz.fits`: photometry keywords in the primary header.
    func writeDRZ(_ name: String = "icxt01010_drz") throws -> String {
        let path = dir + "/\(name).fits"
        let f = try FITSFile(creatingAt: path, overwrite: true)
        try f.appendImage(FITSImage<Float>(shape: [1], pixels: [0]))
        for (k, v) in [("TELESCOP", "HST"), ("INSTRUME", "WFC3"), ("DETECTOR", "IR"), ("FILTER", "F160W")] {
            try f.writeKeyword(k, .string(v), hdu: 0)
        }
        for (k, v) in [("PHOTFNU", photfnu), ("PHOTFLAM", photflam), ("PHOTPLAM", photplam), ("PHOTZPT", -21.1), ("EXPTIME", 1205.9)] {
            try f.writeKeyword(k, .double(v), hdu: 0)
        }
        let sci = try f.appendImage(image(science), extname: "SCI")
        try f.writeKeyword("BUNIT", .string("ELECTRONS/S"), hdu: sci)
        for (k, v) in [("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN")] { try f.writeKeyword(k, .string(v), hdu: sci) }
        for (k, v) in [("CRPIX1", 8.0), ("CRPIX2", 9.0), ("CRVAL1", 189.2), ("CRVAL2", 62.24),
                       ("CD1_1", -0.06 / 3600), ("CD1_2", 0.0), ("CD2_1", 0.0), ("CD2_2", 0.06 / 3600)] {
            try f.writeKeyword(k, .double(v), hdu: sci)
        }
        try f.appendImage(image(weight), extname: "WHT")
        try f.appendImage(image { _ in 3 }, extname: "CTX")
        try f.close()
        return path
    }

    func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / abs(b) }

    func testJWSTI2DInMJyPerSrIsStoredInNanojansky() throws {
        let path = try writeI2D()
        var messages: [String] = []
        let out = dir + "/pixels.h5"
        let ingested = try PixelStore.build(images: [path], output: out, scienceHDU: HDUSelector("SCI"), uncertaintyHDU: HDUSelector("ERR"),
                                            maskHDU: HDUSelector("DQ"), dqBadBits: try PixelStore.parseBitMask("1"), log: { messages.append($0) })
        XCTAssertTrue(messages.contains { $0.contains("MJy/sr") && $0.contains("PIXAR_SR") }, "\(messages)")
        let expectedScale = pixarSR * 1e15
        let fits = try FITSFile(path: path)
        let cal = try FluxCalibration(ExposureKeywords(science: try fits.readHeader(hdu: 1), primary: try fits.readHeader(hdu: 0)), file: path, hdu: 1)
        try fits.close()
        XCTAssertLessThanOrEqual(relative(cal.scale, expectedScale), 1e-12)
        XCTAssertEqual(cal.calibration, 1)

        let store = try PixelStore(path: out)
        let info = store.exposures[0]
        XCTAssertEqual(info.band, "F200W", "FILTER is read from the primary header")
        XCTAssertEqual(info.calibration, 1, "stored pixels are nJy")
        XCTAssertEqual(ingested[0].dropped, 2, "bit 0 is set on pixels 3 and 40 only")
        let (data, ierr) = try store.readAll(exposure: info)
        for i in 0..<(n * n) {
            if i == 3 || i == 40 {
                XCTAssertEqual(ierr[i], 0, "pixel \(i) has DQ bit 0")
                continue
            }
            // Converted in double precision, then rounded once to the store's float32.
            XCTAssertEqual(data[i], Float(science(i) * expectedScale), "pixel \(i)")
            XCTAssertLessThanOrEqual(relative(Double(data[i]), science(i) * pixarSR * 1e15), 1e-7)
            XCTAssertEqual(Double(ierr[i]), Double(Float(1 / (sigma(i) * expectedScale))), accuracy: 0, "pixel \(i)")
        }
        // A 0.05 MJy/sr pixel of (0.031")²: 0.05 × 2.2587e-14 sr × 1e15 nJy/MJy = 1.129 nJy.
        XCTAssertEqual(Double(data[0]), 0.05 * 22.587, accuracy: 1e-6)
    }

    func testJWSTWeightImageAndDQBitLists() throws {
        let path = try writeI2D()
        let out = dir + "/pixels.h5"
        // WHT taken as a 1σ image is refused.
        XCTAssertThrowsError(try PixelStore.build(images: [path], output: out, scienceHDU: HDUSelector("SCI"), uncertaintyHDU: HDUSelector("WHT"))) { error in
            XCTAssertTrue("\(error)".contains("WHT") && "\(error)".contains("--weights"), "\(error)")
        }
        // Bits 1 and 9 (values 2 and 512): pixels 7 and 100; bits 0 and 2 leave 3, 9 and 40 alone.
        let ingested = try PixelStore.build(images: [path], output: out, scienceHDU: HDUSelector("SCI"), uncertaintyHDU: HDUSelector("WHT"),
                                            maskHDU: HDUSelector("DQ"), weights: true, dqBadBits: try PixelStore.parseBitMask("1, 9"))
        XCTAssertEqual(ingested[0].dropped, 2)
        let store = try PixelStore(path: out)
        let (data, ierr) = try store.readAll(exposure: store.exposures[0])
        let scale = pixarSR * 1e15
        for i in 0..<(n * n) {
            if i == 7 || i == 100 { XCTAssertEqual(ierr[i], 0, "pixel \(i)"); continue }
            XCTAssertEqual(data[i], Float(science(i) * scale))
            // Inverse variance scales by 1/scale²: ierr = sqrt(w / scale²) = 1/(σ·scale).
            XCTAssertEqual(Double(ierr[i]), 1 / (sigma(i) * scale), accuracy: 1e-6 / (sigma(i) * scale))
        }
        // With no bad-bit mask the DQ plane masks every non-zero pixel, as a plain mask does.
        let all = try PixelStore.build(images: [path], output: out, scienceHDU: HDUSelector("SCI"), uncertaintyHDU: HDUSelector("ERR"), maskHDU: HDUSelector("DQ"))
        XCTAssertEqual(all[0].dropped, dq.count)
        XCTAssertEqual(try PixelStore.parseBitMask("0,2,9"), 1 + 4 + 512)
        XCTAssertEqual(try PixelStore.parseBitMask("0x5"), 5)
        XCTAssertEqual(try PixelStore.parseBitMask("5"), 5)
        XCTAssertThrowsError(try PixelStore.parseBitMask("0,64"))
        XCTAssertThrowsError(try PixelStore.parseBitMask("DO_NOT_USE"))
    }

    func testHSTDRZInElectronsPerSecondIsStoredInNanojansky() throws {
        let path = try writeDRZ()
        let out = dir + "/pixels.h5"
        _ = try PixelStore.build(images: [path], output: out, scienceHDU: HDUSelector("SCI"), uncertaintyHDU: HDUSelector("WHT"), weights: true)
        let store = try PixelStore(path: out)
        let info = store.exposures[0]
        XCTAssertEqual(info.band, "F160W")
        XCTAssertEqual(info.calibration, 1)
        XCTAssertEqual(info.name, "icxt01010_drz")
        let scale = photfnu * 1e9
        let (data, ierr) = try store.readAll(exposure: info)
        for i in 0..<(n * n) {
            XCTAssertEqual(data[i], Float(science(i) * scale), "pixel \(i)")
            XCTAssertEqual(Double(ierr[i]), 1 / (sigma(i) * scale), accuracy: 1e-6 / (sigma(i) * scale))
        }
        let fits = try FITSFile(path: path)
        let keywords = ExposureKeywords(science: try fits.readHeader(hdu: 1), primary: try fits.readHeader(hdu: 0))
        try fits.close()
        XCTAssertLessThanOrEqual(relative(try FluxCalibration(keywords, file: path, hdu: 1).scale, scale), 1e-12)
        // PHOTFLAM with PHOTPLAM alone gives the same nJy (to the 5 digits PHOTFNU is given to).
        var noFnu = keywords
        noFnu.primary.remove("PHOTFNU")
        let viaFlam = try FluxCalibration(noFnu, file: path, hdu: 1).scale
        XCTAssertLessThanOrEqual(relative(viaFlam, photflam * photplam * photplam / 2.99792458e18 * 1e32), 1e-12)
        XCTAssertEqual(viaFlam, scale, accuracy: 1e-4 * scale)
        // Counts (not a rate) are refused rather than silently mis-scaled.
        var counts = keywords
        counts.science.set("BUNIT", .string("ELECTRONS"))
        XCTAssertThrowsError(try FluxCalibration(counts, file: path, hdu: 1)) { XCTAssertTrue("\($0)".contains("not a count rate"), "\($0)") }
    }

    func testMissingCalibrationNamesFileHDUAndKeyword() throws {
        let path = try writeI2D("no-pixar", pixar: false)
        XCTAssertThrowsError(try PixelStore.build(images: [path], output: dir + "/p.h5", scienceHDU: HDUSelector("SCI"), uncertaintyHDU: HDUSelector("ERR"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("no-pixar.fits") && text.contains("HDU 1") && text.contains("PIXAR_SR"), text)
        }
        var bare = ExposureKeywords(science: FITSHeader(), primary: FITSHeader())
        bare.science.set("BUNIT", .string("DN"))
        XCTAssertThrowsError(try FluxCalibration(bare, file: "x.fits", hdu: 1)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("x.fits") && text.contains("HDU 1: BUNIT") && text.contains("'DN'") && text.contains("PHOTFNU"), text)
        }
        // Per-pixel flux densities, case-sensitive (mJy is milli, MJy mega); CALIB and ABMAG keep their old meaning and win.
        for (unit, f) in [("nJy", 1.0), ("uJy", 1e3), ("mJy", 1e6), ("Jy", 1e9), ("MJy", 1e15)] {
            var k = ExposureKeywords(science: FITSHeader(), primary: FITSHeader())
            k.science.set("BUNIT", .string(unit))
            XCTAssertEqual(try FluxCalibration(k, file: "x", hdu: 1).scale, f, unit)
            k.science.set("CALIB", .double(2))
            XCTAssertEqual(try FluxCalibration(k, file: "x", hdu: 1).scale, 1)
            XCTAssertEqual(try FluxCalibration(k, file: "x", hdu: 1).calibration, 2)
        }
        var zp = ExposureKeywords(science: FITSHeader(), primary: FITSHeader())
        zp.primary.set("MAGZERO", .double(31.4))
        XCTAssertEqual(try FluxCalibration(zp, file: "x", hdu: 1).calibration, 1, accuracy: 1e-15)
        // An EXTNAME that no HDU has.
        XCTAssertThrowsError(try PixelStore.build(images: [path], output: dir + "/p.h5", scienceHDU: HDUSelector("SCIENCE"))) { error in
            XCTAssertTrue("\(error)".contains("SCIENCE") && "\(error)".contains("no-pixar.fits"), "\(error)")
        }
        XCTAssertEqual(HDUSelector("3"), .number(3))
        XCTAssertEqual(HDUSelector("SCI"), .name("SCI"))
    }

    func testCatalogFluxColumnPatternAndCircularizedRadius() throws {
        let path = dir + "/cat.fits"
        let f = try FITSFile(creatingAt: path, overwrite: true)
        _ = try f.appendTable([.int64("id", [1, 2]), .double("ra", [53, 53.001]), .double("dec", [-27, -27]), .double("q", [0.25, 1]),
                               .double("pa", [0, 0]), .double("sersic", [1, 4]), .double("rhalf", [0.2, 0.3]),
                               .double("flux_F200W", [10, 20]), .double("flux_F444W", [30, 40]), .double("fluxerr_F200W", [1, 2])])
        try f.close()
        XCTAssertThrowsError(try SceneCatalog.read(path, bands: ["F200W"])) { error in
            XCTAssertTrue("\(error)".contains("'F200W'") && "\(error)".contains("flux_F200W"), "\(error)")
        }
        let major = try SceneCatalog.read(path, bands: ["F444W", "F200W"], fluxColumn: "flux_{band}")
        XCTAssertEqual(major.bands, ["F444W", "F200W"])
        XCTAssertEqual(major.sources.map(\.flux), [[30, 10], [40, 20]])
        XCTAssertEqual(major.sources.map(\.rhalf), [0.2, 0.3])
        let circ = try SceneCatalog.read(path, bands: ["F200W"], fluxColumn: "flux_{band}", rhalfConvention: .circularized)
        // r_major = r_circ / sqrt(q): 0.2 / 0.5 = 0.4; a round source is unchanged.
        XCTAssertEqual(circ.sources[0].rhalf, 0.4, accuracy: 1e-15)
        XCTAssertEqual(circ.sources[1].rhalf, 0.3)
        XCTAssertThrowsError(try SceneCatalog.read(path, bands: ["F200W"], fluxColumn: "flux"))

        let yaml = dir + "/fit.yaml"
        try "bands: [F200W]\nflux_column: flux_{band}\nrhalf_convention: circularized\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let c = try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)
        XCTAssertEqual(c.fluxColumn, "flux_{band}")
        XCTAssertEqual(c.rhalfConvention, .circularized)
        try "bands: [F200W]\nrhalf_convention: effective\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)) { XCTAssertTrue("\($0)".contains("rhalf_convention"), "\($0)") }
        let defaults = SceneFitConfiguration()
        XCTAssertEqual(defaults.fluxColumn, "{band}")
        XCTAssertEqual(defaults.rhalfConvention, .major)
        let template = SceneFitConfiguration.documentedTemplate(title: "scene")
        XCTAssertTrue(template.contains("flux_column: \"{band}\"") && template.contains("rhalf_convention: \"major\""), template)
    }

    /// Issue 16's scene-fit keys: the fluxes-only first pass and the flux floor, their defaults,
    /// their validation, and which regions the first pass fits for fluxes alone.
    func testFluxesFirstPassAndFluxFloorKeys() throws {
        let yaml = try scratchConfigPath("keys")
        let defaults = SceneFitConfiguration()
        XCTAssertTrue(defaults.passes.fluxesFirst)
        XCTAssertEqual(defaults.passes.max, 10)
        XCTAssertEqual(defaults.bounds.fluxFloorSigmas, 5)
        XCTAssertEqual(try defaults.passes.rule().minPasses, 2)
        // A region is fitted for fluxes alone only while none of its sources has had a pass.
        XCTAssertTrue(defaults.passes.fitsFluxesOnly(passesDone: [0, 0]))
        XCTAssertFalse(defaults.passes.fitsFluxesOnly(passesDone: [0, 1]))
        XCTAssertFalse(defaults.passes.fitsFluxesOnly(passesDone: [1]))
        // A full fit waits for its fixed neighbours' first pass, unless it holds a source that
        // has had none (so the first pass always advances), or the neighbour needs no pass.
        var t = PassTracker(rule: try defaults.passes.rule(), neighbours: [[1, 2], [0, 2], [0, 1]])
        _ = try t.record(0, values: [1], errors: [1])
        XCTAssertFalse(defaults.passes.mayFit(active: [0], fixed: [1], tracker: t), "neighbour 1 has had no pass")
        XCTAssertTrue(defaults.passes.mayFit(active: [0, 1], fixed: [2], tracker: t), "holds a source with no pass")
        t.exclude(1)
        XCTAssertTrue(defaults.passes.mayFit(active: [0], fixed: [1], tracker: t), "neighbour 1 needs no pass")
        XCTAssertFalse(defaults.passes.mayFit(active: [0], fixed: [1, 2], tracker: t))

        try "bands: [F200W]\nflux_floor_sigmas: 0\npasses: {min: 1, max: 1, fluxes_first: false}\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let off = try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)
        XCTAssertNil(off.bounds.fluxFloorSigmas, "0 removes the floor")
        XCTAssertFalse(off.passes.fitsFluxesOnly(passesDone: [0]))
        var offTracker = PassTracker(rule: try off.passes.rule(), neighbours: [[1], [0]])
        _ = try offTracker.record(0, values: [1], errors: [1])
        XCTAssertTrue(off.passes.mayFit(active: [0], fixed: [1], tracker: offTracker), "no flux pass: no barrier")
        XCTAssertEqual(try off.passes.rule().minPasses, 1)

        for (text, field) in [("passes: {max: 1}", "passes.max"), ("flux_floor_sigmas: -1", "flux_floor_sigmas")] {
            try "bands: [F200W]\n\(text)\n".write(toFile: yaml, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)) {
                XCTAssertTrue("\($0)".contains(field), "\($0)")
            }
        }
        let template = SceneFitConfiguration.documentedTemplate(title: "scene")
        XCTAssertTrue(template.contains("flux_floor_sigmas") && template.contains("fluxes_first"), template)
    }

    /// `sample_shape_coordinates`: ellipticity by default and for `sample` only (`optimize`
    /// keeps q and pa); q_pa accepted; anything else refused, naming the key.
    func testSampleShapeCoordinatesKey() throws {
        let yaml = try scratchConfigPath("shapes")
        let defaults = SceneFitConfiguration()
        XCTAssertEqual(defaults.fitSettings(mode: .sample).shapeCoordinates, .ellipticity)
        XCTAssertEqual(defaults.fitSettings(mode: .optimize).shapeCoordinates, .axisRatioAngle)
        try "bands: [F200W]\nsample_shape_coordinates: q_pa\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml).fitSettings(mode: .sample).shapeCoordinates, .axisRatioAngle)
        try "bands: [F200W]\nsample_shape_coordinates: e1e2\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)) {
            XCTAssertTrue("\($0)".contains("sample_shape_coordinates") && "\($0)".contains("e1e2"), "\($0)")
        }
        XCTAssertTrue(SceneFitConfiguration.documentedTemplate(title: "scene").contains("sample_shape_coordinates"))
    }

    /// `sample_precision`: single by default, double accepted and handed to the fitter's sampling settings (for
    /// optimize too, where `PatchFitter` ignores it), anything else refused naming the key; documented.
    func testSamplePrecisionKey() throws {
        let yaml = try scratchConfigPath("precision")
        XCTAssertEqual(SceneFitConfiguration().fitSettings(mode: .sample).samplingPrecision, .single)
        try "bands: [F200W]\nsample_precision: double\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml).fitSettings(mode: .sample).samplingPrecision, .double)
        try "bands: [F200W]\nsample_precision: half\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)) {
            XCTAssertTrue("\($0)".contains("sample_precision") && "\($0)".contains("half"), "\($0)")
        }
        XCTAssertTrue(SceneFitConfiguration.documentedTemplate(title: "scene").contains("sample_precision"))
    }

    /// `sample_footprint_tolerance`: 0.01 by default and handed to the fitter's sampling settings, 0 (the exact cut)
    /// accepted, negative, non-finite or ≥ 1 refused naming the key; documented.
    func testSampleFootprintToleranceKey() throws {
        let yaml = try scratchConfigPath("footprints")
        XCTAssertEqual(SceneFitConfiguration().fitSettings(mode: .sample).samplingFootprintTolerance, 0.01)
        try "bands: [F200W]\nsample_footprint_tolerance: 0\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml).fitSettings(mode: .sample).samplingFootprintTolerance, 0)
        for bad in ["-0.01", "1.5", ".nan"] {
            try "bands: [F200W]\nsample_footprint_tolerance: \(bad)\n".write(toFile: yaml, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml), bad) {
                XCTAssertTrue("\($0)".contains("sample_footprint_tolerance"), "\($0)")
            }
        }
        XCTAssertTrue(SceneFitConfiguration.documentedTemplate(title: "scene").contains("sample_footprint_tolerance"))
    }

    func testMinESSAndMaxThinningKeys() throws {
        let yaml = try scratchConfigPath("min-ess")
        let defaults = SceneFitConfiguration().fitSettings(mode: .sample)
        XCTAssertEqual(defaults.minESS, 0, "off by default: exactly draws_per_patch transitions")
        XCTAssertEqual(defaults.maxThinning, 4)
        try "bands: [F200W]\ndraws_per_patch: 200\ntarget_iterations: 200\nmin_ess: 120\nmax_thinning: 8\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let c = try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)
        XCTAssertEqual(c.fitSettings(mode: .sample).minESS, 120)
        XCTAssertEqual(c.fitSettings(mode: .sample).maxThinning, 8)
        XCTAssertEqual(c.fitSettings(mode: .optimize).minESS, 0, "optimize never extends chains")
        for (text, key) in [("min_ess: 250", "min_ess"), ("min_ess: -1", "min_ess"), ("max_thinning: 0", "max_thinning")] {
            try "bands: [F200W]\ndraws_per_patch: 200\ntarget_iterations: 200\n\(text)\n".write(toFile: yaml, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml), text) {
                XCTAssertTrue("\($0)".contains(key), "\($0)")
            }
        }
        let template = SceneFitConfiguration.documentedTemplate(title: "scene")
        XCTAssertTrue(template.contains("min_ess") && template.contains("max_thinning"))
    }

    func testROIRHalfMultipleKeys() throws {
        let yaml = try scratchConfigPath("roi-multiple")
        XCTAssertEqual(SceneFitConfiguration().roiRHalfMultiple, 0, "off by default: roi alone")
        XCTAssertEqual(SceneFitConfiguration().roiMax, 3)
        try "bands: [F200W]\nroi_rhalf_multiple: 3\nroi_max: 2.5\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let c = try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)
        XCTAssertEqual(c.roiRHalfMultiple, 3)
        XCTAssertEqual(c.roiMax, 2.5)
        XCTAssertEqual(SceneFitConfiguration().reachNoiseFraction, 0, "the fixed light reach by default")
        try "bands: [F200W]\nroi: 4\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml), "roi_max only matters with roi_rhalf_multiple")
        for (text, key) in [("roi_rhalf_multiple: -1", "roi_rhalf_multiple"), ("roi_rhalf_multiple: 3\nroi_max: 0.5", "roi_max"),
                            ("reach_noise_fraction: -0.1", "reach_noise_fraction")] {
            try "bands: [F200W]\n\(text)\n".write(toFile: yaml, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml), text) {
                XCTAssertTrue("\($0)".contains(key), "\($0)")
            }
        }
        XCTAssertTrue(SceneFitConfiguration.documentedTemplate(title: "scene").contains("roi_rhalf_multiple"))
        XCTAssertTrue(SceneFitConfiguration.documentedTemplate(title: "scene").contains("reach_noise_fraction"))
    }

    func testStaleNeighboursKey() throws {
        let yaml = try scratchConfigPath("stale")
        XCTAssertFalse(SceneFitConfiguration().staleNeighbours, "off by default: regions in flight never overlap")
        try "bands: [F200W]\nstale_neighbours: true\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertTrue(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml).staleNeighbours)
        try "bands: [F200W]\nstale_neighbours: sometimes\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ConfigLoader.load(SceneFitConfiguration.self, from: yaml)) {
            XCTAssertTrue("\($0)".contains("stale_neighbours"), "\($0)")
        }
        XCTAssertTrue(SceneFitConfiguration.documentedTemplate(title: "scene").contains("stale_neighbours"))
    }

    /// A `fit.yaml` path in a fresh directory removed when the test ends.
    func scratchConfigPath(_ prefix: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir + "/fit.yaml"
    }
}
