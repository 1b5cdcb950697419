import Astrometry
import Foundation
import Plotting
import RunReports
import SceneModel
import XCTest

/// Picture content checked numerically: the residual and χ panels of a perfect model are flat
/// (one colour, the diverging map's zero), and a missing source makes them not flat.
final class SceneMosaicTests: XCTestCase {
    func testResidualOfAPerfectModelIsFlat() throws {
        let (w, h) = (40, 32)
        let wcs = try WCS(crval1: 150, crval2: 2, crpix1: 20, crpix2: 16, cd11: -0.06 / 3600, cd12: 0, cd21: 0, cd22: 0.06 / 3600)
        let sources = [
            Source(id: 1, ra: 150.0001, dec: 2.0001, flux: [400], q: 0.6, pa: 0.3, sersic: 2, rhalf: 0.15),
            Source(id: 2, ra: 149.9998, dec: 1.9999, flux: [250], isPoint: true),
        ]
        let sersic = try SersicMixture.bundled()
        func render(_ s: [Source]) throws -> [Double] {
            try ExposureRenderer.render(s, bands: ["F200W"], band: 0, wcs: wcs, width: w, height: h,
                                        psf: .gaussian(sigma: 1.2), calibration: 1, sersic: sersic)
        }
        let model = try render(sources)
        XCTAssertGreaterThan(model.max()!, 5, "the sources must be visible in the model")
        let data = model.map { Double(Float($0)) }  // stored as float32, as the pixel store does
        let ierr = [Double](repeating: 2, count: w * h)
        let positions = sources.map { wcs.skyToPixel(ra: $0.ra, dec: $0.dec) }
        let perfect = SceneMosaic.panels(data: data, model: model, inverseError: ierr, width: w, height: h, scale: 3, catalog: positions)
        XCTAssertTrue(perfect.residual.isUniform, "residual of a perfect model is not flat")
        XCTAssertTrue(perfect.chi.isUniform, "χ of a perfect model is not flat")
        XCTAssertEqual(perfect.residual[0, 0], ColorMap.diverging.color(0.5))
        XCTAssertEqual(perfect.chi[5, 7], ColorMap.diverging.color(0.5))
        // The data panel shows the sources (and their markers), so it is not flat.
        XCTAssertFalse(perfect.data.isUniform)
        XCTAssertEqual(perfect.mosaic.width, 4 * 3 * w + 3 * 6)
        XCTAssertEqual(perfect.mosaic.height, 3 * h)

        // A model missing one source leaves it in the residual: not flat.
        let partial = try render([sources[0]])
        let wrong = SceneMosaic.panels(data: data, model: partial, inverseError: ierr, width: w, height: h, scale: 3)
        XCTAssertFalse(wrong.residual.isUniform)
        XCTAssertFalse(wrong.chi.isUniform)
        // Where the point source sits, the residual is positive (red side of the map).
        let p = wrong.residual.position(imageX: positions[1].x.rounded(), imageY: positions[1].y.rounded(), imageHeight: h)
        XCTAssertEqual(wrong.residual[Int(p.x), Int(p.y)], ColorMap.diverging.color(1))
    }

    /// Block averages of a large exposure: means over pixels with data, the mean's inverse error.
    func testBinning() {
        // 4 × 2 image, blocks of 2: block 0 = pixels (0,0),(1,0),(0,1),(1,1).
        let data: [Double] = [1, 3, 10, 10, 5, 7, 10, 10]
        var ierr = [Double](repeating: 1, count: 8)
        ierr[1] = 0  // no data: left out of the data mean and the error
        let b = SceneMosaic.binned(data: data, model: data, inverseError: ierr, width: 4, height: 2, factor: 2)
        XCTAssertEqual(b.width, 2); XCTAssertEqual(b.height, 1)
        XCTAssertEqual(b.data[0], (1 + 5 + 7) / 3, accuracy: 1e-12)
        XCTAssertEqual(b.model[0], (1 + 3 + 5 + 7) / 4, accuracy: 1e-12)
        XCTAssertEqual(b.inverseError[0], 3 / 3.0.squareRoot(), accuracy: 1e-12)  // σ of a mean of 3 unit-σ pixels = 1/√3
        XCTAssertEqual(b.data[1], 10)
    }

    /// Pixels without data (inverse error 0) are drawn gray, never as a residual.
    func testDroppedPixelsAreGray() {
        var ierr = [Double](repeating: 1, count: 16)
        ierr[5] = 0
        let panels = SceneMosaic.panels(data: [Double](repeating: 3, count: 16), model: [Double](repeating: 3, count: 16),
                                        inverseError: ierr, width: 4, height: 4, scale: 1)
        let p = panels.residual.position(imageX: 1, imageY: 1, imageHeight: 4)
        XCTAssertEqual(panels.residual[Int(p.x), Int(p.y)], RGB(128, 128, 128))
        XCTAssertEqual(panels.residual[0, 0], ColorMap.diverging.color(0.5))
    }
}
