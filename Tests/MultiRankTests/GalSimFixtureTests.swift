import Foundation
import TesseraFITS
import XCTest

/// The committed GalSim scenes (Tests/Fixtures/galsim, made by scripts/galsim_scenes.py: exact
/// Sérsic galaxies and point sources, Moffat PSFs, JWST-style SCI/ERR/DQ exposures in MJy/sr)
/// through the binary as a user runs it: fit-psf → preprocess → optimize (mpirun -np 2).
///
/// What is checked is what issue 16 fixed and measured here:
/// - `fit-psf` reports the fraction of the PSF image's flux its 4-component mixture misses, and
///   for these Moffat PSFs it is below 0.5% (measured: −0.08% and +0.02%);
/// - every error in the catalog is a measurement: finite and positive, never the old constants
///   (1 for a flux, 0.25″ for a position) unless flagged; the `flags` column is present and
///   agrees with `flagged`;
/// - Laplace flux pulls of the unflagged sources: measured median +0.52 and robust width 1.26
///   (18 pulls, 2026-12-06); the bounds (|median| < 1, width 0.5–3) catch errors off by a large
///   factor or replaced by constants, not the remaining model bias (pulls ~1.8× too wide on
///   larger scenes; see issue 16), which this test does not claim to be fixed;
/// - every source of the crowded scene converges (`converged`, and no flag 4 "optimiser not
///   converged"). Before the fluxes-only first pass and the flux floor (issue 16), 3 of its 8
///   sources ended with flag 4 after 5 passes; now all 8 converge. The pulls on these 12 sources
///   are too few to show that change: the code before it gave median −0.79, width 1.65 over its
///   18 unflagged pulls, the code after it −0.33 and 1.97 over all 24 (the 160-source benchmark
///   in the README, "Scene fitting on GalSim scenes", measures it).
final class GalSimFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/galsim").path

    struct Fitted {
        var catalog: [String: [Double]]
        var truth: [String: [Double]]
        var psfLog: String
    }

    func fit(_ name: String) throws -> Fitted {
        let src = Self.fixtures + "/" + name
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("galsim-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        var psfLog = ""
        for band in ["F150W", "F200W"] {
            let r = try Launcher.run(["fit-psf", "--image", "\(src)/psf_\(band).fits", "--band", band, "--components", "4",
                                      "--store", "\(dir)/psf.h5"])
            XCTAssertEqual(r.status, 0, r.stderr)
            psfLog += r.stdout
        }
        let images = try FileManager.default.contentsOfDirectory(atPath: src + "/images").sorted().map { "\(src)/images/\($0)" }
        let pre = try Launcher.run(["preprocess"] + images + ["--sci-hdu", "SCI", "--unc-hdu", "ERR", "--mask-hdu", "DQ",
                                                              "--dq-bad-bits", "1", "--out", "\(dir)/pixels.h5"])
        XCTAssertEqual(pre.status, 0, pre.stderr)
        try """
        catalog: \(src)/initial.fits
        pixel_store: \(dir)/pixels.h5
        psf_store: \(dir)/psf.h5
        bands: [F150W, F200W]
        roi: 1.0
        rhalf_range: [0.02, 1.5]
        sersic_range: [0.5, 6.0]
        """.write(toFile: dir + "/optimize.yaml", atomically: true, encoding: .utf8)
        let opt = try Launcher.run(["optimize", "--config", dir + "/optimize.yaml", "--out", dir + "/optimize"], ranks: 2, timeout: 400)
        XCTAssertEqual(opt.status, 0, opt.stderr + opt.stdout)
        return Fitted(catalog: try table(dir + "/optimize/catalog.fits"), truth: try table(src + "/truth.fits"), psfLog: psfLog)
    }

    func table(_ path: String) throws -> [String: [Double]] {
        let f = try FITSFile(path: path)
        defer { try? f.close() }
        var out: [String: [Double]] = [:]
        for name in try f.columnNames(hdu: 1) {
            switch try f.readColumn(name, hdu: 1).data {
            case let .double(v): out[name] = v
            case let .int64(v): out[name] = v.map(Double.init)
            case let .int32(v): out[name] = v.map(Double.init)
            case let .bool(v): out[name] = v.map { $0 ? 1 : 0 }
            default: break
            }
        }
        return out
    }

    func testFixturesFitWithHonestErrors() throws {
        var pulls: [Double] = []
        for name in ["isolated", "crowded"] {
            let f = try fit(name)
            let missing = f.psfLog.components(separatedBy: "\n").filter { $0.contains("misses") }
            XCTAssertEqual(missing.count, 2, f.psfLog)
            for line in missing {
                let value = Double(line.components(separatedBy: ": ")[1].components(separatedBy: ";")[0])!
                XCTAssertLessThan(abs(value), 0.005, line)
            }
            let c = f.catalog
            let flags = try XCTUnwrap(c["flags"], "catalog has a flags column")
            for i in flags.indices {
                XCTAssertEqual(Int(flags[i]) & 1, Int(c["flagged"]![i]), "bit 0 is `flagged`")
                guard Int(flags[i]) & 3 == 0 else { continue }
                for band in ["F150W", "F200W"] {
                    let u = c["\(band)_unc"]![i]
                    XCTAssertTrue(u.isFinite && u > 0 && u != 1, "\(name) source \(c["id"]![i]) \(band)_unc = \(u)")
                }
                for p in ["ra", "dec"] {
                    let u = c["\(p)_unc"]![i]
                    XCTAssertTrue(u.isFinite && u > 0 && u != 0.25, "\(name) source \(c["id"]![i]) \(p)_unc = \(u)")
                }
            }
            if name == "crowded" {
                for i in flags.indices {
                    XCTAssertEqual(Int(flags[i]) & 4, 0, "crowded source \(c["id"]![i]): optimiser not converged")
                    XCTAssertEqual(c["converged"]?[i], 1, "crowded source \(c["id"]![i]): passes not converged")
                }
            }
            let ids = f.truth["id"]!
            for i in c["id"]!.indices where Int(flags[i]) == 0 {
                let t = ids.firstIndex(of: c["id"]![i])!
                for band in ["F150W", "F200W"] { pulls.append((c[band]![i] - f.truth[band]![t]) / c["\(band)_unc"]![i]) }
            }
        }
        let sorted = pulls.sorted()
        let median = sorted[sorted.count / 2]
        let width = 1.4826 * pulls.map { abs($0 - median) }.sorted()[pulls.count / 2]
        print("GalSim fixtures: \(pulls.count) flux pulls, median \(median), robust width \(width)")
        XCTAssertLessThan(abs(median), 1.0, "flux pull median")
        XCTAssertTrue(width > 0.5 && width < 3.0, "flux pull robust width \(width)")
    }
}
