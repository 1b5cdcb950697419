import Astrometry
@testable import BatchRuns
import Foundation
import ImageStores
import MEDSIO
import SceneFitting
import SceneModel
import SceneRuns
import StampFitting
import Stamps
import TesseraSupport
import TesseraTestSupport
import XCTest

/// One protocol for image inputs: a scene pixel store cut into stamps, and MEDS epochs with PSFs
/// from a PSF store, fitted by the same stamp fitters as MEDS cutouts.
final class TileInputTests: XCTestCase {
    /// A small mock scene (SceneFitting's renderer, 2 rotated dithered exposures of one band,
    /// calibration 2.5 counts per nJy) preprocessed into a pixel store.
    func makeStore(in dir: TemporaryDirectory) throws -> (store: PixelStore, psfs: PSFStore, truth: SceneCatalog) {
        var c = MockSceneConfiguration()
        c.count = 6
        c.seed = 7
        c.bands = ["F200W"]
        c.exposuresPerBand = 2
        c.imageSize = 72
        c.psfSigma = [1.2]
        c.calibration = 2.5
        c.fluxRange = [150, 400]
        c.sersicRange = [1, 1]
        c.pointFraction = 0
        c.minSeparation = 1.6
        c.rotation = 0.3
        c.gain = 0
        let out = try MockSceneRunner.run(c, directory: dir.path("mock"), sersic: try SersicMixture.bundled())
        _ = try PixelStore.build(images: out.images, output: dir.path("pixels.h5"))
        return (try PixelStore(path: dir.path("pixels.h5")), try PSFStore(contentsOf: URL(fileURLWithPath: out.psfStore)), out.truth)
    }

    func testPixelStoreStampsFollowTheWCSAndTheCalibration() throws {
        let dir = try TemporaryDirectory()
        let (store, psfs, truth) = try makeStore(in: dir)
        let sources = truth.sources.map { PixelStoreStamps.Source(id: $0.id, ra: $0.ra, dec: $0.dec) }
        let stamps = try PixelStoreStamps(store: store, psfs: psfs, band: "F200W", sources: sources, boxSize: 24)
        XCTAssertFalse(stamps.coaddFirst)
        XCTAssertEqual(stamps.objectCount, 6)
        for (i, s) in sources.enumerated() {
            let epochs = try stamps.epochs(ofObject: i)
            XCTAssertEqual(epochs.count, 2, "every mock source lies on both exposures")
            XCTAssertEqual(try stamps.object(i).epochCount, 2)
            for stamp in epochs {
                let info = store.exposures[stamp.fileID]
                let wcs = try info.wcs
                let p = wcs.skyToPixel(ra: s.ra, dec: s.dec)
                let rowStart = Int(p.y.rounded()) - 12, colStart = Int(p.x.rounded()) - 12
                // The Jacobian centre is the source; one pixel along a row or column moves (u, v) as
                // the WCS says, with +u west (u = −Δα cos δ) and +v north, in arcsec.
                XCTAssertEqual(stamp.jacobian.row0, p.y - Double(rowStart), accuracy: 1e-9)
                XCTAssertEqual(stamp.jacobian.col0, p.x - Double(colStart), accuracy: 1e-9)
                for (dRow, dCol) in [(0.0, 1.0), (1.0, 0.0), (3.0, -2.0)] {
                    let sky = wcs.pixelToSky(x: p.x + dCol, y: p.y + dRow)
                    let o = TangentPlane(ra0: s.ra, dec0: s.dec).offsets(ra: sky.ra, dec: sky.dec)
                    let uv = stamp.jacobian.uv(row: stamp.jacobian.row0 + dRow, col: stamp.jacobian.col0 + dCol)
                    XCTAssertEqual(uv.u, -o.xi, accuracy: 1e-6)
                    XCTAssertEqual(uv.v, o.eta, accuracy: 1e-6)
                }
                // Pixels are the store's divided by the calibration; weights (ierr·cal)².
                let (data, ierr) = try store.read(exposure: info.name, x0: colStart + 5, y0: rowStart + 7, width: 1, height: 1)
                XCTAssertEqual(Double(stamp.image[7 * 24 + 5]), Double(data[0]) / 2.5, accuracy: 1e-5)
                XCTAssertEqual(Double(stamp.weight[7 * 24 + 5]), Double(ierr[0] * ierr[0]) * 6.25, accuracy: 1e-4)
                XCTAssertEqual(stamp.psfMixture, try psfs.psf(band: "F200W", exposure: info.name))
                XCTAssertNil(stamp.psf)
            }
        }
    }

    /// The stamp fitter on pixel-store stamps recovers the injected fluxes in catalogue units
    /// (nJy): a stamp left in counts would be 2.5× too bright, one with the Jacobian's u sign
    /// flipped would put the model on the mirror image.
    func testStampFitterRecoversInjectedFluxesFromAPixelStore() throws {
        let dir = try TemporaryDirectory()
        let (store, psfs, truth) = try makeStore(in: dir)
        // Two sources keep the debug-build test short; the batch script fits all of a scene's.
        let sources = truth.sources.prefix(2).map { PixelStoreStamps.Source(id: $0.id, ra: $0.ra, dec: $0.dec) }
        let stamps = try PixelStoreStamps(store: store, psfs: psfs, band: "F200W", sources: sources, boxSize: 20)
        let sersic = try SersicMixture.bundled()
        var pulls: [Double] = []
        for i in 0..<stamps.objectCount {
            let member = GroupMember(index: i, object: try stamps.object(i), epochs: try stamps.epochs(ofObject: i),
                                     coaddFirst: stamps.coaddFirst)
            let fit = try XCTUnwrap(try StampFitter.fit(group: [member], kind: .maxLikelihood, settings: StampFitSettings(),
                                                        sersic: sersic, seed: 1).first)
            XCTAssertEqual(fit.flags, 0, "object \(i): \(fit.message ?? "")")
            let flux = try XCTUnwrap(fit.source?.flux.first), err = try XCTUnwrap(fit.errors["flux"])
            pulls.append((flux - truth.sources[i].flux[0]) / err)
            let source = try XCTUnwrap(fit.source)
            let offset = TangentPlane(ra0: truth.sources[i].ra, dec0: truth.sources[i].dec).offsets(ra: source.ra, dec: source.dec)
            XCTAssertLessThan(hypot(offset.xi, offset.eta), 0.05, "object \(i): fitted position within 0.05″ of the truth")
        }
        XCTAssertLessThan(pulls.map(abs).max()!, 4, "flux pulls \(pulls)")
    }

    /// MEDS epochs with PSFs from a PSF store: the store's mixture (keyed by the exposure named in
    /// image_info.image_path) replaces the MEDS PSF image; a store with the right PSFs recovers
    /// the fluxes, one with PSFs 40% too wide biases them (so the store's PSF is what is used).
    func testMEDSEpochsTakeTheirPSFsFromAStore() throws {
        let dir = try TemporaryDirectory()
        var settings = MockTileSettings()
        settings.objectCount = 1
        settings.blendedFraction = 0
        settings.epochCount = 2
        settings.boxSize = 24
        settings.fluxRange = 2000...4000
        settings.seed = 3
        let mock = try MockStampTile.make(settings)
        let meds = dir.path("tile-meds.fits")
        try MEDSWriter.write(MEDSContents(mock: mock), to: meds)

        func store(widen: Double) -> PSFStore {
            var s = PSFStore()
            for (k, image) in mock.images.enumerated() {
                s.set(PSFStoreEntry(mixture: Self.pixelMixture(image.psf, image: image, widen: widen)), band: "r", exposure: k == 0 ? "mock-coadd" : "mock-epoch-\(k)")
            }
            return s
        }
        func fluxPulls(_ psfs: PSFStore) throws -> [Double] {
            let file = try MEDSFile(path: meds)
            let input = try StorePSFStamps(file, psfs: psfs, band: "r", exposureNames: [0: "mock-coadd", 1: "mock-epoch-1", 2: "mock-epoch-2"])
            let sersic = try SersicMixture.bundled()
            return try (0..<input.objectCount).map { i in
                let epochs = try input.epochs(ofObject: i)
                XCTAssertTrue(epochs.allSatisfy { $0.psf == nil && $0.psfMixture != nil })
                let member = GroupMember(index: i, object: try input.object(i), epochs: epochs, coaddFirst: input.coaddFirst)
                let fit = try XCTUnwrap(try StampFitter.fit(group: [member], kind: .maxLikelihood, settings: StampFitSettings(),
                                                            sersic: sersic, seed: 1).first)
                return (try XCTUnwrap(fit.source?.flux.first) - mock.objects[i].flux) / (try XCTUnwrap(fit.errors["flux"]))
            }
        }
        let right = try fluxPulls(store(widen: 1))
        let wrong = try fluxPulls(store(widen: 1.4))
        XCTAssertLessThan(right.map(abs).max()!, 4, "pulls with the true PSFs: \(right)")
        XCTAssertGreaterThan(wrong.map(abs).min()!, 3, "pulls with PSFs 40% too wide: \(wrong)")
        XCTAssertEqual(StorePSFStamps<MEDSFile>.exposureName(ofImagePath: "/data/DES/mock-epoch-2.fits.fz"), "mock-epoch-2")

        // A store without the band is refused before any fit, naming the band.
        XCTAssertThrowsError(try StorePSFStamps(try MEDSFile(path: meds), psfs: store(widen: 1), band: "i", exposureNames: [:])) {
            XCTAssertTrue("\($0)".contains("band 'i'"), "\($0)")
        }
    }

    /// A mock image's sky PSF in its pixel frame (x = col, y = row): C_pix = M C_uv Mᵀ with
    /// M = d(row, col)/d(u, v), optionally widened by `widen` in σ.
    static func pixelMixture(_ psf: SkyMixture, image: MockTileImage, widen: Double) -> PSFMixture {
        let det = image.dudrow * image.dvdcol - image.dudcol * image.dvdrow
        // (row, col) = M (u, v): M = J⁻¹ with J = [[dudrow, dudcol], [dvdrow, dvdcol]].
        let m = [[image.dvdcol / det, -image.dudcol / det], [-image.dvdrow / det, image.dudrow / det]]
        return PSFMixture(components: psf.components.map { g in
            let c = [[g.cuu, g.cuv], [g.cuv, g.cvv]]
            func entry(_ a: Int, _ b: Int) -> Double {
                var s = 0.0
                for i in 0..<2 { for j in 0..<2 { s += m[a][i] * c[i][j] * m[b][j] } }
                return s * widen * widen
            }
            // row index 0 = row (y), 1 = col (x).
            return GaussianComponent(amplitude: g.flux, cxx: entry(1, 1), cxy: entry(0, 1), cyy: entry(0, 0))
        })
    }

    func testPixelStoreTileNeedsCatalogAndPSFStore() throws {
        let dir = try TemporaryDirectory()
        _ = try makeStore(in: dir)
        var input = BatchInputConfiguration()
        XCTAssertThrowsError(try TileInput(path: dir.path("pixels.h5"), input: input)) { XCTAssertTrue("\($0)".contains("input.psf_store"), "\($0)") }
        input.psfStore = dir.path("mock/psf.h5")
        input.band = "F200W"
        XCTAssertThrowsError(try TileInput(path: dir.path("pixels.h5"), input: input)) { XCTAssertTrue("\($0)".contains("input.catalog"), "\($0)") }
        input.catalog = dir.path("mock/truth.fits")
        input.band = "F444W"
        XCTAssertThrowsError(try TileInput(path: dir.path("pixels.h5"), input: input)) { XCTAssertTrue("\($0)".contains("F444W"), "\($0)") }
        input.band = "F200W"
        let tile = try TileInput(path: dir.path("pixels.h5"), input: input)
        XCTAssertEqual(tile.numbers, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try tile.neighbours(method: .stamps, buffer: 0).count, 6)
        XCTAssertThrowsError(try tile.neighbours(method: .seg, buffer: 0))
    }
}
