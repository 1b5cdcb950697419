import Astrometry
import Foundation
import XCTest
import TesseraSupport
@testable import SceneModel

/// A small random patch: `sources` sources near the origin, `exposures` exposures with rotated,
/// anisotropic Jacobians and two-component PSFs, 2 bands. Shared with the kernel tests.
func randomTestPatch(sources count: Int, exposures: Int, size: Int = 14, seed: UInt64, pointEvery: Int = 3)
    -> (patch: Patch, sources: [PatchSource], mixture: SersicMixture) {
    var rng = RandomSource(seed: seed)
    let mixture = try! SersicMixture(radii: [0.05, 0.2, 0.6, 1.4, 3.0], nodes: [0.5, 1.5, 3, 5, 7],
                                     amplitudes: [[0.01, 0.15, 0.55, 0.25, 0.04], [0.08, 0.25, 0.37, 0.22, 0.08],
                                                  [0.2, 0.27, 0.25, 0.17, 0.11], [0.3, 0.25, 0.2, 0.13, 0.12],
                                                  [0.36, 0.24, 0.17, 0.12, 0.11]])
    let plane = TangentPlane(ra0: 150, dec0: 2)
    var sources: [PatchSource] = []
    for i in 0..<count {
        sources.append(PatchSource(xi: 0.3 * (rng.uniform() - 0.5), eta: 0.3 * (rng.uniform() - 0.5),
                                   flux: [50 + 100 * rng.uniform(), 30 + 100 * rng.uniform()],
                                   q: 0.3 + 0.6 * rng.uniform(), pa: 3 * (rng.uniform() - 0.5), sersic: 0.9 + 4 * rng.uniform(),
                                   rhalf: 0.1 + 0.3 * rng.uniform(), isPoint: (i + 1) % pointEvery == 0))
    }
    var list: [PatchExposure] = []
    for e in 0..<exposures {
        let theta = 2 * rng.uniform(), scale = 8 + 4 * rng.uniform(), shear = 0.1 * rng.uniform()
        let astrometry = sources.map { s -> LocalAstrometry in
            LocalAstrometry(x0: Double(size) / 2 + rng.uniform() - 0.5, y0: Double(size) / 2 + rng.uniform() - 0.5, xi0: s.xi + 0.05, eta0: s.eta - 0.03,
                            dxdXi: -scale * cos(theta), dxdEta: scale * (sin(theta) + shear), dydXi: scale * sin(theta), dydEta: scale * cos(theta))
        }
        var x: [Double] = [], y: [Double] = [], d: [Double] = [], w: [Double] = []
        for j in 0..<size { for i in 0..<size { x.append(Double(i)); y.append(Double(j)); d.append(3 * rng.normal()); w.append(0.5 + rng.uniform()) } }
        let s1 = 0.6 + rng.uniform(), s2 = 2 * s1
        let psf = PSFMixture(components: [GaussianComponent(amplitude: 0.7, x: 0.1, y: -0.05, cxx: s1 * s1, cxy: 0.1 * s1 * s1, cyy: 1.2 * s1 * s1),
                                          GaussianComponent(amplitude: 0.3, cxx: s2 * s2, cyy: s2 * s2)])
        list.append(PatchExposure(name: "e\(e)", band: e % 2, x: x, y: y, data: d, inverseError: w, psf: psf,
                                  calibration: 0.8 + 0.4 * rng.uniform(), astrometry: astrometry))
    }
    return (Patch(bands: ["A", "B"], plane: plane, exposures: list), sources, mixture)
}

func packParameters(_ sources: [PatchSource]) -> [Double] {
    sources.flatMap { s in s.flux + [s.xi, s.eta] + (s.isPoint ? [] : [s.q, s.pa, s.sersic, s.rhalf]) }
}

func unpackParameters(_ p: [Double], like sources: [PatchSource]) -> [PatchSource] {
    var out = sources
    var o = 0
    for i in out.indices {
        let b = out[i].flux.count
        out[i].flux = Array(p[o..<(o + b)]); out[i].xi = p[o + b]; out[i].eta = p[o + b + 1]
        o += b + 2
        if !out[i].isPoint {
            out[i].q = p[o]; out[i].pa = p[o + 1]; out[i].sersic = p[o + 2]; out[i].rhalf = p[o + 3]
            o += 4
        }
    }
    return out
}

final class ReferenceRendererTests: XCTestCase {
    func testGradientMatchesFiniteDifferences() {
        for seed in 1...3 as ClosedRange<UInt64> {
            let (patch, sources, mixture) = randomTestPatch(sources: 3, exposures: 2, size: 10, seed: seed)
            let r = ReferenceRenderer(sersic: mixture)
            let p = packParameters(sources)
            let g = r.evaluate(patch: patch, sources: sources).gradient
            let largest: Double = g.map { abs($0) }.max() ?? 0
            for i in p.indices {
                let h = 1e-5 * max(abs(p[i]), 0.1)
                var a = p, b = p
                a[i] += h; b[i] -= h
                let fa = r.evaluate(patch: patch, sources: unpackParameters(a, like: sources), gradient: false).logLikelihood
                let fb = r.evaluate(patch: patch, sources: unpackParameters(b, like: sources), gradient: false).logLikelihood
                let fd = (fa - fb) / (2 * h)
                let tolerance: Double = 1e-5 * max(abs(fd), 1e-2 * largest)
                let error: Double = abs(fd - g[i])
                XCTAssertLessThanOrEqual(error, tolerance, "seed \(seed) parameter \(i): analytic \(g[i]) vs FD \(fd)")
            }
        }
    }

    func testRenderedFluxIsConserved() {
        // A well-sampled grid large enough to hold the light: total model counts = flux × calibration.
        let mixture = try! SersicMixture(radii: [0.3, 1.0], nodes: [1, 4], amplitudes: [[0.4, 0.6], [0.4, 0.6]])
        let n = 80
        let x = (0..<(n * n)).map { Double($0 % n) }, y = (0..<(n * n)).map { Double($0 / n) }
        let a = LocalAstrometry(x0: 40, y0: 40, xi0: 0, eta0: 0, dxdXi: -10, dxdEta: 0, dydXi: 0, dydEta: 10)
        let e = PatchExposure(name: "e", band: 0, x: x, y: y, data: .init(repeating: 0, count: n * n),
                              inverseError: .init(repeating: 1, count: n * n), psf: .gaussian(sigma: 1.5), calibration: 2.5, astrometry: [a, a])
        let s = [PatchSource(xi: 0.1, eta: -0.2, flux: [100], q: 0.6, pa: 0.4, sersic: 2, rhalf: 0.4, isPoint: false),
                 PatchSource(xi: -0.5, eta: 0.3, flux: [40], q: 1, pa: 0, sersic: 1, rhalf: 0.1, isPoint: true)]
        let m = ReferenceRenderer(sersic: mixture).evaluate(patch: Patch(bands: ["A"], plane: TangentPlane(ra0: 0, dec0: 0), exposures: [e]),
                                                            sources: s, gradient: false).models[0]
        let total: Double = m.reduce(0, +)
        XCTAssertLessThan(abs(total - 350), 0.35)
    }
}
