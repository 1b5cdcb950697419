import Astrometry
import Foundation
import SceneModel
import TesseraSupport
@testable import SceneFitting

/// A one-galaxy, one-band 24² patch at 10 pixels per arcsec with unit noise (seed 11), a
/// Gaussian PSF of σ = 1.2 pixels and a three-node Sérsic mixture: the small posterior that the
/// pa-centring and shape-coordinate tests probe.
enum OneGalaxyPatch {
    static func posterior(truth: PatchSource, paCentres: [Double?]?,
                          shapes: PatchPosterior.ShapeCoordinates = .axisRatioAngle) throws -> PatchPosterior {
        var rng = RandomSource(seed: 11)
        let mixture = try SersicMixture(radii: [0.3, 1.0, 2.5], nodes: [0.5, 3, 7], amplitudes: [[0.2, 0.6, 0.2], [0.4, 0.4, 0.2], [0.5, 0.3, 0.2]])
        let n = 24
        let a = LocalAstrometry(x0: 12, y0: 12, xi0: 0, eta0: 0, dxdXi: -10, dxdEta: 0, dydXi: 0, dydEta: 10)
        let x = (0..<(n * n)).map { Double($0 % n) }, y = (0..<(n * n)).map { Double($0 / n) }
        var exposure = PatchExposure(name: "e", band: 0, x: x, y: y, data: .init(repeating: 0, count: n * n),
                                     inverseError: .init(repeating: 1, count: n * n), psf: .gaussian(sigma: 1.2), calibration: 1, astrometry: [a])
        let blank = try SceneKernel(patch: Patch(bands: ["A"], plane: TangentPlane(ra0: 10, dec0: 10), exposures: [exposure]),
                                    sersic: mixture, isPoint: [false])
        exposure.data = blank.modelImages(blank.parameters(of: [truth]))[0].map { $0 + rng.normal() }
        let kernel = try SceneKernel(patch: Patch(bands: ["A"], plane: TangentPlane(ra0: 10, dec0: 10), exposures: [exposure]),
                                     sersic: mixture, isPoint: [false])
        return try PatchPosterior(kernel: kernel, anchors: [(0, 0)], bounds: ParameterBounds(), paCentres: paCentres, shapes: shapes)
    }
}
