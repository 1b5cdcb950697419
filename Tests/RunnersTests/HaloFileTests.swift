import ClusterFitting
@testable import ClusterRuns
import Foundation
import HaloProfiles
import TesseraFITS
import TesseraHDF5
import TesseraLinAlg
import TesseraTestSupport
import XCTest

/// Halo input files: every observable kind through HDF5 and FITS and back, mock runs in both
/// formats, and bad files rejected with the file and the field named. XCTest, so the cases run
/// one at a time: the HDF5 library is not thread-safe.
final class HaloFileTests: XCTestCase {
    let cosmo = try! Cosmology(H0: 70, omegaCDM: 0.25, omegaBaryon: 0.05)

    func scratch() throws -> String {
        try makeTemporaryDirectory(prefix: "halofiles").path
    }

    /// One halo with all five kinds: ΔΣ with a full covariance, γ_t with ⟨β⟩ and ⟨β²⟩, g_t for one
    /// source plane, an off-centre masked κ map with a minimum radius, a mass map.
    func everyKind() throws -> HaloInput {
        let r = [0.3, 0.6, 1.2, 2.4]
        let cov = Matrix([[4e26, 1e26, 0, 0], [1e26, 3e26, 5e25, 0], [0, 5e25, 2e26, 1e25], [0, 0, 1e25, 1e26]])
        let ds = try HaloObservable(kind: .excessSurfaceDensity, radii: r, values: [1.1e14, 6e13, 2.5e13, 9e12], covariance: cov)
        let gt = try HaloObservable(kind: .tangentialShear(.betaMoments(beta: 0.55, betaSquared: 0.33)), radii: r,
                                    values: [0.05, 0.03, 0.012, 0.004], errors: [0.01, 0.008, 0.006, 0.004])
        let g = try HaloObservable(kind: .reducedShear(.redshift(1.3)), radii: r, values: [0.06, 0.035, 0.013, 0.0041],
                                   errors: [0.011, 0.009, 0.007, 0.005])
        var mask = [Bool](repeating: false, count: 6 * 5)
        mask[3] = true
        mask[17] = true
        let kGeometry = try MapGeometry(width: 6, height: 5, pixelScale: 0.25, centreX: 2.2, centreY: 1.9, minimumRadius: 0.1, mask: mask)
        let kappa = try HaloObservable(kind: .convergenceMap(.redshift(1.3)), geometry: kGeometry,
                                       values: (0..<30).map { 0.01 * Double($0 % 7) + (mask[$0] ? .nan : 0) },
                                       errors: (0..<30).map { 0.001 * Double(1 + $0 % 5) })
        let sGeometry = try MapGeometry(width: 4, height: 4, pixelScale: 0.5)
        let sigma = try HaloObservable(kind: .surfaceDensityMap, geometry: sGeometry, values: (0..<16).map { 1e14 / Double(1 + $0) },
                                       errors: (0..<16).map { 1e13 / Double(1 + $0 % 3) })
        return HaloInput(id: "A17", redshift: 0.35, log10TrueMass: 14.6, observables: [ds, gt, g, kappa, sigma])
    }

    func expectSame(_ a: HaloInput, _ b: HaloInput) {
        XCTAssertTrue(a.id == b.id && a.redshift == b.redshift && a.log10TrueMass == b.log10TrueMass)
        // Files are read in the canonical order (profiles ΔΣ, γ_t, g_t, then maps κ, Σ).
        let order = ["delta_sigma", "tangential_shear", "reduced_shear", "kappa_map", "mass_map"]
        let sa = a.observables.sorted { order.firstIndex(of: $0.kind.name)! < order.firstIndex(of: $1.kind.name)! }
        XCTAssertTrue(sa.map(\.kind) == b.observables.map(\.kind))
        for (x, y) in zip(sa, b.observables) {
            XCTAssertTrue(x.radii == y.radii, "\(x.kind.name) radii")
            XCTAssertTrue(x.values == y.values, "\(x.kind.name) values")
            XCTAssertTrue(x.hasDiagonalCovariance == y.hasDiagonalCovariance, "\(x.kind.name)")
            XCTAssertTrue(x.covariance == y.covariance, "\(x.kind.name) covariance")
            XCTAssertTrue(x.geometry == y.geometry, "\(x.kind.name) geometry")
            XCTAssertTrue(x.pixels == y.pixels, "\(x.kind.name) pixels")
        }
    }

    func testEveryObservableRoundTripsThroughHDF5AndFITS() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let halo = try everyKind()
        for format in HaloInput.Format.allCases {
            let path = dir + "/" + HaloInput.fileName(id: halo.id, format: format)
            try halo.write(to: path)
            expectSame(halo, try HaloInput.read(path))
            // Each kind alone too (a file with only maps starts with a map as HDU 0 in FITS).
            for o in halo.observables {
                let single = HaloInput(id: "s", redshift: 0.35, observables: [o])
                let p = dir + "/single-\(o.kind.name).\(format.fileExtension)"
                try single.write(to: p)
                expectSame(single, try HaloInput.read(p))
            }
        }
        let fitsName = HaloInput.parseFileName("halo-00012.fits"), h5Name = HaloInput.parseFileName("halo-x.h5")
        XCTAssertTrue(fitsName?.id == "00012" && fitsName?.format == .fits)
        XCTAssertTrue(h5Name?.id == "x" && h5Name?.format == .hdf5)
        XCTAssertTrue(HaloInput.parseFileName("halo-.h5") == nil && HaloInput.parseFileName("other.fits") == nil)
        let twice = HaloInput(id: "t", redshift: 0.3, observables: [halo.observables[0], halo.observables[0]])
        XCTAssertThrowsError(try twice.write(to: dir + "/t.h5")) { XCTAssertTrue($0 is ClusterRunError) }
    }

    func testMockWritesConfiguredObservablesInEitherFormat() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for format in ["hdf5", "fits"] {
            var c = ClusterMockConfiguration()
            c.count = 2
            c.format = format
            c.observables = ["reduced_shear", "kappa_map", "mass_map", "tangential_shear"]
            c.mapPixels = 8
            try c.validate()
            let halos = try ClusterMockRunner.run(c, directory: dir + "/" + format)
            for halo in halos {
                let path = dir + "/\(format)/halos/" + HaloInput.fileName(id: halo.id, format: format == "fits" ? .fits : .hdf5)
                let back = try HaloInput.read(path)
                XCTAssertTrue(Set(back.observables.map(\.kind.name)) == Set(c.observables) && back.observables.count == 4)
                expectSame(halo, back)
            }
        }
        // The default stays one ΔΣ profile in HDF5.
        let d = ClusterMockConfiguration()
        XCTAssertTrue(d.observables == ["delta_sigma"] && d.format == "hdf5")
        var bad = ClusterMockConfiguration()
        bad.observables = ["shear"]
        XCTAssertThrowsError(try bad.validate())
        bad.observables = ["kappa_map"]
        bad.sourceRedshift = 0.4
        XCTAssertThrowsError(try bad.validate())
        bad.sourceRedshift = 1
        bad.format = "csv"
        XCTAssertThrowsError(try bad.validate())
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testBadFilesNameTheFileAndField() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // HDF5: a shear profile without its sources, a zero error, a source in front of the lens,
        // a map without its pixel scale, a file with no observable.
        func h5(_ name: String, _ fill: (HDF5File) throws -> Void) throws -> String {
            let path = dir + "/" + name
            let f = try HDF5File.create(path)
            try f.setAttribute("id", .string("b"))
            try f.setAttribute("redshift", .double(0.4))
            try fill(f)
            try f.close()
            return path
        }
        let noSources = try h5("a.h5") { f in
            try f.write([0.5, 1.0], to: "/tangential_shear/radii")
            try f.write([0.02, 0.01], to: "/tangential_shear/values")
            try f.write([0.01, 0.01], to: "/tangential_shear/errors")
        }
        var m = message { _ = try HaloInput.read(noSources) }
        XCTAssertTrue(m.contains(noSources) && m.contains("/tangential_shear") && m.contains("source_redshift"), "\(m)")
        let zeroError = try h5("b.h5") { f in
            try f.write([0.5, 1.0], to: "/reduced_shear/radii")
            try f.write([0.02, 0.01], to: "/reduced_shear/values")
            try f.write([0.01, 0.0], to: "/reduced_shear/errors")
            try f.setAttribute("source_redshift", .double(1.0), on: "/reduced_shear")
        }
        m = message { _ = try HaloInput.read(zeroError) }
        XCTAssertTrue(m.contains(zeroError) && m.contains("errors[1]"), "\(m)")
        let inFront = try h5("c.h5") { f in
            try f.write([0.02, 0.01, 0.01, 0.02], shape: [2, 2], to: "/kappa_map/values")
            try f.write([0.01, 0.01, 0.01, 0.01], shape: [2, 2], to: "/kappa_map/errors")
            try f.setAttribute("source_redshift", .double(0.3), on: "/kappa_map")
            try f.setAttribute("pixel_scale", .double(0.3), on: "/kappa_map")
        }
        m = message { _ = try HaloInput.read(inFront) }
        XCTAssertTrue(m.contains(inFront) && m.contains("/kappa_map") && m.contains("sourceRedshift"), "\(m)")
        let noScale = try h5("d.h5") { f in
            try f.write([1e14, 1e14, 1e14, 1e14], shape: [2, 2], to: "/mass_map/values")
            try f.write([1e13, 1e13, 1e13, 1e13], shape: [2, 2], to: "/mass_map/errors")
        }
        m = message { _ = try HaloInput.read(noScale) }
        XCTAssertTrue(m.contains(noScale) && m.contains("pixel_scale"), "\(m)")
        let errShape = try h5("e.h5") { f in
            try f.write([1e14, 1e14, 1e14, 1e14], shape: [2, 2], to: "/mass_map/values")
            try f.write([1e13, 1e13, 1e13], to: "/mass_map/errors")
            try f.setAttribute("pixel_scale", .double(0.3), on: "/mass_map")
        }
        m = message { _ = try HaloInput.read(errShape) }
        XCTAssertTrue(m.contains(errShape) && m.contains("/mass_map/errors") && m.contains("shape"), "\(m)")
        let empty = try h5("f.h5") { _ in }
        m = message { _ = try HaloInput.read(empty) }
        XCTAssertTrue(m.contains(empty) && m.contains("no observable"), "\(m)")

        // FITS: a NaN radius, a negative error, a map without its error image, a missing HALOID.
        func fits(_ name: String, id: String? = "b", _ fill: (FITSFile) throws -> Void) throws -> String {
            let path = dir + "/" + name
            let f = try FITSFile(creatingAt: path, overwrite: true)
            try fill(f)
            if let id { try f.writeKeyword("HALOID", .string(id), hdu: 0) }
            try f.writeKeyword("REDSHIFT", .double(0.4), hdu: 0)
            try f.close()
            return path
        }
        let nanRadius = try fits("g.fits") { f in
            try f.appendTable([.double("RADIUS", [0.5, .nan]), .double("VALUE", [1e14, 5e13]), .double("ERROR", [1e13, 1e13])],
                              extname: "DELTA_SIGMA")
        }
        m = message { _ = try HaloInput.read(nanRadius) }
        XCTAssertTrue(m.contains(nanRadius) && m.contains("DELTA_SIGMA") && m.contains("radii[1]"), "\(m)")
        let negative = try fits("h.fits") { f in
            let hdu = try f.appendTable([.double("RADIUS", [0.5, 1]), .double("VALUE", [0.1, 0.05]), .double("ERROR", [0.01, -0.01])],
                                        extname: "REDUCED_SHEAR")
            try f.writeKeyword("ZSOURCE", .double(1.0), hdu: hdu)
        }
        m = message { _ = try HaloInput.read(negative) }
        XCTAssertTrue(m.contains(negative) && m.contains("REDUCED_SHEAR") && m.contains("errors[1]"), "\(m)")
        let behind = try fits("i.fits") { f in
            let hdu = try f.appendTable([.double("RADIUS", [0.5, 1]), .double("VALUE", [0.1, 0.05]), .double("ERROR", [0.01, 0.01])],
                                        extname: "TANGENTIAL_SHEAR")
            try f.writeKeyword("ZSOURCE", .double(0.2), hdu: hdu)
        }
        m = message { _ = try HaloInput.read(behind) }
        XCTAssertTrue(m.contains(behind) && m.contains("TANGENTIAL_SHEAR") && m.contains("sourceRedshift"), "\(m)")
        let noErrorImage = try fits("j.fits") { f in
            let hdu = try f.appendImage(FITSImage(width: 2, height: 2, pixels: [1e14, 1e14, 1e14, 1e14]), extname: "MASS_MAP")
            try f.writeKeyword("PIXSCALE", .double(0.2), hdu: hdu)
        }
        m = message { _ = try HaloInput.read(noErrorImage) }
        XCTAssertTrue(m.contains(noErrorImage) && m.contains("MASS_MAP_ERR"), "\(m)")
        let noID = try fits("k.fits", id: nil) { f in
            try f.appendTable([.double("RADIUS", [0.5]), .double("VALUE", [1e14]), .double("ERROR", [1e13])], extname: "DELTA_SIGMA")
        }
        m = message { _ = try HaloInput.read(noID) }
        XCTAssertTrue(m.contains(noID) && m.contains("HALOID"), "\(m)")
    }
}
