import Astrometry
import Foundation
import TesseraTestSupport
import XCTest
import TesseraSupport
@testable import SceneModel

/// Small synthetic scenes for the kernel tests (kept small: the tests run in debug).
enum KernelFixture {
    /// A made-up Sérsic table: 6 radii, nodes 0.5…7, smooth positive amplitudes summing to 1
    /// whose weight moves to larger radii as n grows. Tests must not depend on real table values.
    static func sersic() throws -> SersicMixture {
        let radii = [0.05, 0.12, 0.3, 0.6, 1.1, 2.0]
        let nodes = Array(stride(from: 0.5, through: 7.0, by: 0.5))
        let amps = nodes.map { n -> [Double] in
            let mu = log(0.5) + 0.22 * (n - 2)
            let w = radii.map { exp(-pow(log($0) - mu, 2) / (2 * 0.8 * 0.8)) }
            let t = w.reduce(0, +)
            return w.map { $0 / t }
        }
        return try SersicMixture(radii: radii, nodes: nodes, amplitudes: amps)
    }

    /// WCS linearisation with pixel scale `scale` arcsec/pixel, a rotation, an anisotropy and a
    /// skew, so J is a general 2×2 matrix.
    static func astrometry(x0: Double, y0: Double, scale: Double, rotation: Double, stretch: Double = 1,
                           skew: Double = 0) -> LocalAstrometry {
        let c = cos(rotation), s = sin(rotation)
        // x grows to the west (−ξ) as on the sky, then rotate and stretch.
        let a = [[-1 / scale, skew / scale], [0, stretch / scale]]
        let j00 = c * a[0][0] - s * a[1][0], j01 = c * a[0][1] - s * a[1][1]
        let j10 = s * a[0][0] + c * a[1][0], j11 = s * a[0][1] + c * a[1][1]
        return LocalAstrometry(x0: x0, y0: y0, xi0: 0, eta0: 0, dxdXi: j00, dxdEta: j01, dydXi: j10, dydEta: j11)
    }

    struct ExposureSpec {
        var band: Int
        var width: Int
        var height: Int
        var astrometry: LocalAstrometry
        var psf: PSFMixture
        var calibration: Double
        var inverseError: Double
    }

    /// An exposure grid with zero data; the same astrometry for every source.
    static func exposure(_ e: ExposureSpec, name: String, sourceCount: Int) -> PatchExposure {
        var x: [Double] = [], y: [Double] = []
        for j in 0..<e.height { for i in 0..<e.width { x.append(Double(i)); y.append(Double(j)) } }
        return PatchExposure(name: name, band: e.band, x: x, y: y, data: [Double](repeating: 0, count: x.count),
                             inverseError: [Double](repeating: e.inverseError, count: x.count), psf: e.psf,
                             calibration: e.calibration, astrometry: [LocalAstrometry](repeating: e.astrometry, count: sourceCount))
    }

    static let threePSF = PSFMixture(components: [
        GaussianComponent(amplitude: 0.6, x: 0.05, y: -0.03, cxx: 1.1, cxy: 0.1, cyy: 0.9),
        GaussianComponent(amplitude: 0.3, x: -0.1, y: 0.08, cxx: 2.5, cxy: -0.3, cyy: 3.0),
        GaussianComponent(amplitude: 0.1, x: 0.2, y: 0.1, cxx: 8.0, cxy: 1.0, cyy: 6.0),
    ])
    static let twoPSF = PSFMixture(components: [
        GaussianComponent(amplitude: 0.75, x: 0, y: 0.02, cxx: 0.5, cxy: -0.05, cyy: 0.6),
        GaussianComponent(amplitude: 0.25, x: 0.03, y: 0, cxx: 2.0, cxy: 0.2, cyy: 1.6),
    ])

    /// Three exposures in two bands with different rotations, anisotropies, PSFs and scales.
    static func specs(size: Int = 14) -> [ExposureSpec] {
        let c = Double(size - 1) / 2
        return [
            ExposureSpec(band: 0, width: size, height: size,
                         astrometry: astrometry(x0: c, y0: c, scale: 0.1, rotation: 0.3),
                         psf: threePSF, calibration: 1.7, inverseError: 0.6),
            ExposureSpec(band: 1, width: size, height: size - 2,
                         astrometry: astrometry(x0: c + 0.4, y0: c - 1.3, scale: 0.12, rotation: -1.1, stretch: 1.15, skew: 0.08),
                         psf: twoPSF, calibration: 0.9, inverseError: 0.4),
            ExposureSpec(band: 0, width: size - 1, height: size,
                         astrometry: astrometry(x0: c - 0.7, y0: c + 0.2, scale: 0.09, rotation: 2.4, stretch: 0.9, skew: -0.1),
                         psf: twoPSF, calibration: 2.2, inverseError: 0.8),
        ]
    }

    static func patch(_ specs: [ExposureSpec], sourceCount: Int) -> Patch {
        Patch(bands: ["g", "r"], plane: TangentPlane(ra0: 150, dec0: 2),
              exposures: specs.enumerated().map { exposure($1, name: "e\($0)", sourceCount: sourceCount) })
    }

    /// A patch as the patch builder makes it: per exposure, the pixels of the bounding box of
    /// discs of `radius` pixels around each source, row by row, kept if inside any disc.
    static func discPatch(_ specs: [ExposureSpec], sources: [PatchSource], radius: Double) -> Patch {
        let exposures = specs.enumerated().map { e, spec -> PatchExposure in
            let centres = sources.map { spec.astrometry.pixel(xi: $0.xi, eta: $0.eta) }
            let x0 = Int((centres.map(\.x).min()! - radius).rounded(.down)), x1 = Int((centres.map(\.x).max()! + radius).rounded(.up))
            let y0 = Int((centres.map(\.y).min()! - radius).rounded(.down)), y1 = Int((centres.map(\.y).max()! + radius).rounded(.up))
            var x: [Double] = [], y: [Double] = []
            for j in y0...y1 {
                for i in x0...x1 where centres.contains(where: { pow(Double(i) - $0.x, 2) + pow(Double(j) - $0.y, 2) <= radius * radius }) {
                    x.append(Double(i)); y.append(Double(j))
                }
            }
            return PatchExposure(name: "disc\(e)", band: spec.band, x: x, y: y, data: [Double](repeating: 0, count: x.count),
                                 inverseError: [Double](repeating: spec.inverseError, count: x.count), psf: spec.psf,
                                 calibration: spec.calibration,
                                 astrometry: [LocalAstrometry](repeating: spec.astrometry, count: sources.count))
        }
        return Patch(bands: ["g", "r"], plane: TangentPlane(ra0: 150, dec0: 2), exposures: exposures)
    }

    /// The blend of the culling, footprint and precision tests: a galaxy at the origin, a point source 2″ away and a
    /// second galaxy 2″ the other way, with `fluxes` (two bands each, in that order).
    static func blend(fluxes: [[Double]]) -> [PatchSource] {
        [PatchSource(xi: 0, eta: 0, flux: fluxes[0], q: 0.6, pa: 0.4, sersic: 1.5, rhalf: 0.25),
         PatchSource(xi: 1.9, eta: 0.6, flux: fluxes[1], isPoint: true),
         PatchSource(xi: -0.8, eta: 1.8, flux: fluxes[2], q: 0.4, pa: -1.0, sersic: 3.5, rhalf: 0.15)]
    }

    static func randomSources(_ rng: inout RandomSource, isPoint: [Bool]) -> [PatchSource] {
        isPoint.map { point in
            PatchSource(xi: 0.5 * (rng.uniform() - 0.5), eta: 0.5 * (rng.uniform() - 0.5),
                        flux: [50 + 150 * rng.uniform(), 50 + 150 * rng.uniform()],
                        q: 0.35 + 0.55 * rng.uniform(), pa: 3 * (rng.uniform() - 0.5),
                        sersic: 0.8 + 4.0 * rng.uniform(), rhalf: 0.08 + 0.25 * rng.uniform(), isPoint: point)
        }
    }

    /// Replace the data of `patch` by `model + noise` (noise σ = 1/inverseError).
    static func withData(_ patch: Patch, models: [[Double]], rng: inout RandomSource, noise: Bool = true) -> Patch {
        var p = patch
        for e in p.exposures.indices {
            p.exposures[e].data = models[e].enumerated().map { i, m in
                m + (noise ? rng.normal() / p.exposures[e].inverseError[i] : 0)
            }
        }
        return p
    }
}

final class KernelTests: XCTestCase {
    func testFastExpAccuracy() {
        var rng = RandomSource(seed: 11)
        var worst = 0.0
        for i in 0..<20000 {
            let x = i < 10000 ? -700 * rng.uniform() : -20 * rng.uniform() + 5 * rng.uniform()
            let rel = abs(KernelMath.exp(x) - Foundation.exp(x)) / Foundation.exp(x)
            worst = max(worst, rel)
        }
        XCTAssertLessThan(worst, 1e-14, "max relative error \(worst)")
        XCTAssertEqual(KernelMath.exp(0.0), 1.0)
        XCTAssertTrue(KernelMath.exp(-700.5) == 0.0 && KernelMath.exp(-1e300) == 0.0 && KernelMath.exp(-Double.infinity) == 0.0)
        // Lanes are independent.
        let xs = [0.0, -1, -2, -3, -800, -0.5, -10, -300]
        var lanes = KernelVector()
        for l in 0..<KernelVector.scalarCount { lanes[l] = xs[l % xs.count] }
        let v = KernelMath.exp(lanes)
        for l in 0..<KernelVector.scalarCount {
            let x = lanes[l]
            XCTAssertLessThanOrEqual(abs(v[l] - (x < -700 ? 0 : Foundation.exp(x))), 1e-14 * Foundation.exp(x))
        }
    }

    /// The done-when check: every parameter type (fluxes, ξ, η, q, pa, n through the mixture
    /// table, rhalf; point-source fluxes and positions) against central finite differences.
    func testGradientMatchesFiniteDifferences() throws {
        for seed: UInt64 in [1, 2, 3, 4] { try gradientMatchesFiniteDifferences(seed: seed) }
    }

    private func gradientMatchesFiniteDifferences(seed: UInt64) throws {
        var rng = RandomSource(seed: seed, stream: 7)
        let isPoint = [false, true, false]
        let base = KernelFixture.patch(KernelFixture.specs(), sourceCount: isPoint.count)
        let sersic = try KernelFixture.sersic()
        let truth = KernelFixture.randomSources(&rng, isPoint: isPoint)
        let truthKernel = try SceneKernel(patch: base, sersic: sersic, isPoint: isPoint)
        let patch = KernelFixture.withData(base, models: truthKernel.modelImages(truthKernel.parameters(of: truth)), rng: &rng)
        let kernel = try SceneKernel(patch: patch, sersic: sersic, isPoint: isPoint)
        // Evaluate away from the truth so every gradient component is far from zero.
        var theta = kernel.parameters(of: KernelFixture.randomSources(&rng, isPoint: isPoint))
        for s in 0..<isPoint.count {
            // Keep the position near the truth so the sources overlap the data.
            let o = kernel.layout.offsets[s] + 2
            theta[o] = truth[s].xi + 0.1 * (rng.uniform() - 0.5)
            theta[o + 1] = truth[s].eta + 0.1 * (rng.uniform() - 0.5)
        }
        let result = try kernel.evaluate(theta)
        XCTAssertLessThan(abs(result.logLikelihood + 0.5 * result.chi2), 1e-12 * result.chi2)
        for s in 0..<isPoint.count {
            for (k, parameter) in kernel.layout.parameters(ofSource: s).enumerated() {
                let i = kernel.layout.offsets[s] + k
                let h: Double
                switch parameter {
                case .flux: h = 1e-3 * abs(theta[i])
                case .xi, .eta: h = 1e-5
                case .q, .pa, .sersic: h = 1e-5
                case .rhalf: h = 1e-6
                }
                var plus = theta, minus = theta
                plus[i] += h; minus[i] -= h
                let fd = (try kernel.evaluate(plus).logLikelihood - kernel.evaluate(minus).logLikelihood) / (2 * h)
                let g = result.gradient[i]
                let rel = abs(g - fd) / max(abs(g), abs(fd), 1e-3)
                XCTAssertLessThan(rel, 1e-5, "source \(s) \(parameter.name): analytic \(g), finite difference \(fd), relative \(rel)")
            }
        }
        // The χ² agrees with the model images.
        let models = kernel.modelImages(theta)
        var chi2 = 0.0
        for (e, ex) in patch.exposures.enumerated() {
            for i in 0..<ex.pixelCount { chi2 += pow((ex.data[i] - models[e][i]) * ex.inverseError[i], 2) }
        }
        XCTAssertLessThan(abs(chi2 - result.chi2), 1e-10 * chi2)
    }

    /// The kernel's image against a direct sum of `GaussianComponent.density` with covariances
    /// built from rotation matrices (independent of the kernel's precomputed inverse covariances).
    func testModelMatchesDirectSum() throws {
        var rng = RandomSource(seed: 5)
        let isPoint = [false, true]
        let patch = KernelFixture.patch(KernelFixture.specs(size: 10), sourceCount: 2)
        let sersic = try KernelFixture.sersic()
        let sources = KernelFixture.randomSources(&rng, isPoint: isPoint)
        var kernel = try SceneKernel(patch: patch, sersic: sersic, isPoint: isPoint)
        kernel.footprintTolerance = 0  // the exact model (footprint error: FootprintTests)
        let models = kernel.modelImages(kernel.parameters(of: sources))
        for (e, ex) in patch.exposures.enumerated() {
            for i in stride(from: 0, to: ex.pixelCount, by: 7) {
                var expected = 0.0
                for (s, src) in sources.enumerated() {
                    let a = ex.astrometry[s]
                    let p = a.pixel(xi: src.xi, eta: src.eta)
                    let j = [[a.dxdXi, a.dxdEta], [a.dydXi, a.dydEta]]
                    // Columns of R: major axis (sin pa, cos pa), minor axis (cos pa, −sin pa).
                    let r = [[sin(src.pa), cos(src.pa)], [cos(src.pa), -sin(src.pa)]]
                    let comps: [(Double, Double)] = src.isPoint ? [(1, 0)]
                        : zip(sersic.amplitudes(sersic: src.sersic).values, sersic.radii).map { ($0, $1 * src.rhalf) }
                    for (ak, sigma) in comps {
                        let d = [sigma * sigma, pow(src.q * sigma, 2)]
                        var sky = [[0.0, 0], [0, 0]]
                        for u in 0..<2 { for v in 0..<2 { for w in 0..<2 { sky[u][v] += r[u][w] * d[w] * r[v][w] } } }
                        var pix = [[0.0, 0], [0, 0]]
                        for u in 0..<2 { for v in 0..<2 { for w in 0..<2 { for z in 0..<2 {
                            pix[u][v] += j[u][w] * sky[w][z] * j[v][z]
                        } } } }
                        for c in ex.psf.components {
                            let g = GaussianComponent(amplitude: src.flux[ex.band] * ex.calibration * ak * c.amplitude,
                                                      x: c.x, y: c.y, cxx: pix[0][0] + c.cxx + 1.0 / 12,
                                                      cxy: pix[0][1] + c.cxy, cyy: pix[1][1] + c.cyy + 1.0 / 12)
                            expected += g.density(dx: ex.x[i] - p.x, dy: ex.y[i] - p.y)
                        }
                    }
                }
                XCTAssertLessThanOrEqual(abs(models[e][i] - expected), 1e-12 * max(abs(expected), 1e-3), "exposure \(e) pixel \(i)")
            }
        }
    }

    /// On a large well-sampled grid the model sums to flux × calibration × Σ a_k(n), and its
    /// centroid and second moments are those of the convolved mixture (checks the pa/q
    /// convention: pa = 0 puts the major axis north).
    func testFluxAndMomentsOnLargeGrid() throws {
        let sersic = try KernelFixture.sersic()
        let size = 100
        let a = KernelFixture.astrometry(x0: 49.3, y0: 50.6, scale: 0.1, rotation: 0)
        let psf = PSFMixture.gaussian(sigma: 1.3)
        let spec = KernelFixture.ExposureSpec(band: 0, width: size, height: size, astrometry: a, psf: psf,
                                              calibration: 2.5, inverseError: 1)
        let patch = Patch(bands: ["g"], plane: TangentPlane(ra0: 10, dec0: -5),
                          exposures: [KernelFixture.exposure(spec, name: "big", sourceCount: 1)])
        var kernel = try SceneKernel(patch: patch, sersic: sersic, isPoint: [false])
        kernel.footprintTolerance = 0  // the exact model (footprint error: FootprintTests)
        for pa in [0.0, 0.7] {
            let src = PatchSource(xi: 0.13, eta: -0.21, flux: [40], q: 0.5, pa: pa, sersic: 2.3, rhalf: 0.25)
            let model = kernel.modelImages(kernel.parameters(of: [src]))[0]
            let amps = sersic.amplitudes(sersic: src.sersic).values
            let total = amps.reduce(0, +) * 40 * 2.5
            let ex = patch.exposures[0]
            let sum = model.reduce(0, +)
            XCTAssertLessThan(abs(sum - total), 1e-9 * total, "flux \(sum) vs \(total)")
            var mx = 0.0, my = 0.0
            for i in model.indices { mx += model[i] * ex.x[i]; my += model[i] * ex.y[i] }
            mx /= sum; my /= sum
            let p = a.pixel(xi: src.xi, eta: src.eta)
            XCTAssertTrue(abs(mx - p.x) < 1e-8 && abs(my - p.y) < 1e-8)
            var cxx = 0.0, cxy = 0.0, cyy = 0.0
            for i in model.indices {
                let dx = ex.x[i] - mx, dy = ex.y[i] - my
                cxx += model[i] * dx * dx; cxy += model[i] * dx * dy; cyy += model[i] * dy * dy
            }
            cxx /= sum; cxy /= sum; cyy /= sum
            // Expected: mean Sérsic variance × J M Jᵀ + PSF + 1/12. J = diag(−10, 10) here.
            let meanR2 = zip(amps, sersic.radii).reduce(0) { $0 + $1.0 * $1.1 * $1.1 } / amps.reduce(0, +) * 0.25 * 0.25
            let su = sin(pa), cu = cos(pa)
            let sky = (su * su + 0.25 * cu * cu, su * cu * 0.75, cu * cu + 0.25 * su * su)
            let ex2 = (meanR2 * 100 * sky.0 + 1.69 + 1.0 / 12, -meanR2 * 100 * sky.1, meanR2 * 100 * sky.2 + 1.69 + 1.0 / 12)
            XCTAssertTrue(abs(cxx - ex2.0) < 1e-6 * ex2.0 && abs(cxy - ex2.1) < 1e-6 * ex2.0 && abs(cyy - ex2.2) < 1e-6 * ex2.2, "moments (\(cxx), \(cxy), \(cyy)) vs \(ex2)")
            if pa == 0 { XCTAssertGreaterThan(cyy, 2 * cxx) }  // major axis north = along +y for this J
        }
    }

    /// A narrow (undersampled) PSF: pixel values against the exact integral over the pixel. The
    /// I/12 term must do much better than sampling the unintegrated Gaussian at the pixel centre.
    func testPixelIntegration() throws {
        let sigma = 0.55
        let a = LocalAstrometry(x0: 7, y0: 7, xi0: 0, eta0: 0, dxdXi: 1, dxdEta: 0, dydXi: 0, dydEta: 1)
        let spec = KernelFixture.ExposureSpec(band: 0, width: 15, height: 15, astrometry: a,
                                              psf: .gaussian(sigma: sigma), calibration: 1, inverseError: 1)
        let patch = Patch(bands: ["g"], plane: TangentPlane(ra0: 0, dec0: 0),
                          exposures: [KernelFixture.exposure(spec, name: "narrow", sourceCount: 1)])
        let kernel = try SceneKernel(patch: patch, sersic: try KernelFixture.sersic(), isPoint: [true])
        let src = PatchSource(xi: 0.31, eta: -0.18, flux: [1], isPoint: true)
        let model = kernel.modelImages(kernel.parameters(of: [src]))[0]
        let ex = patch.exposures[0]
        func cell(_ c: Double, _ mu: Double) -> Double {
            0.5 * (erf((c + 0.5 - mu) / (sigma * 2.0.squareRoot())) - erf((c - 0.5 - mu) / (sigma * 2.0.squareRoot())))
        }
        let point = GaussianComponent(amplitude: 1, cxx: sigma * sigma, cyy: sigma * sigma)
        var kernelError = 0.0, sampleError = 0.0
        for i in model.indices {
            let exact = cell(ex.x[i], 7.31) * cell(ex.y[i], 6.82)
            kernelError = max(kernelError, abs(model[i] - exact))
            sampleError = max(sampleError, abs(point.density(dx: ex.x[i] - 7.31, dy: ex.y[i] - 6.82) - exact))
        }
        let peak = cell(7, 7.31) * cell(7, 6.82)
        XCTAssertLessThan(kernelError, 0.25 * sampleError, "kernel \(kernelError) vs point sampling \(sampleError)")
        XCTAssertLessThan(kernelError, 0.03 * peak, "kernel error \(kernelError), peak \(peak)")
    }

    /// Fixed sources rendered with their own astrometry are removed exactly: the active sources at
    /// their true values then explain the subtracted data with χ² = 0.
    func testFixedSourceSubtraction() throws {
        var rng = RandomSource(seed: 21)
        let sersic = try KernelFixture.sersic()
        let active = KernelFixture.randomSources(&rng, isPoint: [false, true])
        var fixed = KernelFixture.randomSources(&rng, isPoint: [false, true])
        fixed[0].xi += 0.3; fixed[1].eta -= 0.3
        let specs = KernelFixture.specs(size: 12)
        // Give the fixed sources a slightly different linearisation, as at their own positions.
        var fixedAstrometry = specs.map { [LocalAstrometry](repeating: $0.astrometry, count: 2) }
        for e in fixedAstrometry.indices { for s in 0..<2 { fixedAstrometry[e][s].dxdXi *= 1.001; fixedAstrometry[e][s].x0 += 0.01 } }
        // Data: all four sources rendered together.
        var all = KernelFixture.patch(specs, sourceCount: 4)
        for e in all.exposures.indices { all.exposures[e].astrometry = Array(all.exposures[e].astrometry[0..<2]) + fixedAstrometry[e] }
        let allKernel = try SceneKernel(patch: all, sersic: sersic, isPoint: [false, true, false, true])
        let data = KernelFixture.withData(KernelFixture.patch(specs, sourceCount: 2),
                                          models: allKernel.modelImages(allKernel.parameters(of: active + fixed)), rng: &rng, noise: false)
        let activeIsPoint = [false, true]
        let before = try SceneKernel(patch: data, sersic: sersic, isPoint: activeIsPoint)
        let theta = before.parameters(of: active)
        XCTAssertGreaterThan(try before.evaluate(theta).chi2, 100)
        let subtracted = try data.subtracting(fixed, astrometry: fixedAstrometry, sersic: sersic)
        let after = try SceneKernel(patch: subtracted, sersic: sersic, isPoint: activeIsPoint)
        let result = try after.evaluate(theta)
        // Exact but for rounding, and for footprints when they are on (FootprintTests): each of the
        // subtraction and this evaluation leaves a noise-weighted model error ‖w·δ‖ ≤ τ, so χ² ≤ (2τ)².
        let tau = after.footprintTolerance
        XCTAssertLessThan(result.chi2, max(4 * tau * tau, 1e-16), "χ² after subtraction \(result.chi2)")
        let scale = try before.evaluate(theta).gradient.map(abs).max()!
        XCTAssertTrue(result.gradient.allSatisfy { abs($0) < 1e-3 * scale }, "gradient \(result.gradient) vs \(scale) before")
        XCTAssertEqual(subtracted.exposures[0].astrometry, data.exposures[0].astrometry)
        XCTAssertEqual(try data.subtracting([], astrometry: fixedAstrometry, sersic: sersic).exposures[1].data, data.exposures[1].data)
    }

    /// Culling on a realistic sampling patch (three sources with discs of 10 px, the bundled
    /// 20-component Sérsic table, two exposures): the culled kernel agrees with the un-culled one
    /// (model to 1e−12 of the peak, χ² and gradient to 1e−9 relative) while skipping over a
    /// quarter of the Gaussian × pixel pairs.
    func testCullingAgreesAndSkips() throws {
        let sersic = try SersicMixture.bundled()
        XCTAssertEqual(sersic.componentCount, 20)
        let truth = KernelFixture.blend(fluxes: [[120, 90], [60, 80], [80, 50]])
        let isPoint = truth.map(\.isPoint)
        let specs = Array(KernelFixture.specs().prefix(2))
        let base = KernelFixture.discPatch(specs, sources: truth, radius: 10)
        var rng = RandomSource(seed: 31)
        var exact = try SceneKernel(patch: base, sersic: sersic, isPoint: isPoint)
        exact.culling = false
        let patch = KernelFixture.withData(base, models: exact.modelImages(exact.parameters(of: truth)), rng: &rng)
        var culled = try SceneKernel(patch: patch, sersic: sersic, isPoint: isPoint)
        XCTAssertTrue(culled.culling)
        culled.footprintTolerance = 0  // the exact cut only (footprints: FootprintTests)
        var full = culled
        full.culling = false
        var theta = culled.parameters(of: truth)
        for i in theta.indices { theta[i] *= 1 + 0.03 * (rng.uniform() - 0.5) }

        let mc = culled.modelImages(theta), mf = full.modelImages(theta)
        for e in mc.indices {
            let peak = mf[e].map(abs).max()!
            let worst = zip(mc[e], mf[e]).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-12 * peak, "exposure \(e): model difference \(worst), peak \(peak)")
        }
        let rc = try culled.evaluate(theta), rf = try full.evaluate(theta)
        XCTAssertLessThanOrEqual(abs(rc.chi2 - rf.chi2), 1e-9 * rf.chi2)
        let norm = rf.gradient.map { $0 * $0 }.reduce(0, +).squareRoot()
        for i in theta.indices {
            XCTAssertLessThanOrEqual(abs(rc.gradient[i] - rf.gradient[i]), 1e-9 * max(abs(rf.gradient[i]), 1e-3 * norm), "parameter \(i): culled \(rc.gradient[i]) vs \(rf.gradient[i])")
        }
        XCTAssertEqual(rf.gaussianPixelEvaluations, full.gaussianPixelEvaluationsPerCall)
        let fraction = Double(rc.gaussianPixelEvaluations) / Double(culled.gaussianPixelEvaluationsPerCall)
        // About 0.70 here: the wide Sérsic components (up to 30 r_half) and the 8 px² PSF wing of
        // exposure e0 reach every pixel of a 2″ patch; the narrow ones are skipped away from their source.
        XCTAssertTrue(rc.gaussianPixelEvaluations > 0 && fraction < 0.75, "culled kernel evaluates \(fraction) of the pairs")
    }

    /// The single-precision exp against Foundation's over [−87, 0] (a few float ulps), 0 below the limit, and
    /// independent lanes.
    func testSingleExpAccuracy() {
        var rng = RandomSource(seed: 12)
        var worst = 0.0
        for i in 0..<20000 {
            let x = Float(i < 10000 ? -87 * rng.uniform() : -20 * rng.uniform())
            worst = max(worst, abs(Double(KernelMath.exp(x)) - Foundation.exp(Double(x))) / Foundation.exp(Double(x)))
        }
        XCTAssertLessThan(worst, 4e-7, "max relative error \(worst)")
        XCTAssertEqual(KernelMath.exp(Float(0)), 1)
        XCTAssertTrue(KernelMath.exp(Float(-87.5)) == 0 && KernelMath.exp(-Float.infinity) == 0)
        let xs: [Float] = [0, -1, -2.5, -90, -0.3, -10, -60, -86.9]
        let v = KernelMath.exp(SingleVector(xs))
        for l in xs.indices {
            XCTAssertLessThanOrEqual(abs(Double(v[l]) - (xs[l] < -87 ? 0 : Foundation.exp(Double(xs[l])))), 4e-7 * Foundation.exp(Double(xs[l])))
        }
    }

    /// `Precision.single` against double on a bright three-source blend placed at pixel ≈ 4000 of its
    /// exposures (where a float pixel coordinate is only good to 2.4e−4 pixel): the model within 1e−6 of the
    /// peak, ln L within 0.05 and every gradient component within 1e−3 of its own size (or of 1e−3 of the
    /// gradient's norm) — the budget `SceneKernel.Precision` states — with peaks of ~6000 σ per pixel, at a point
    /// 0.1% off the truth (χ² ≈ 10⁴). Measured: 0.03 and 1.8e−4. The two must differ (the float loop ran), and
    /// they evaluate the same pairs. Float pixel coordinates taken absolutely instead of from the block centres
    /// fail every bound (model 1e−4 of the peak, ln L off by 44, gradient by 2.6%).
    func testSinglePrecisionIsWithinItsBudget() throws {
        let sersic = try SersicMixture.bundled()
        let truth = KernelFixture.blend(fluxes: [[3e4, 2e4], [6e4, 8e4], [8e3, 5e3]])
        let isPoint = truth.map(\.isPoint)
        let specs = KernelFixture.specs().prefix(2).map { spec -> KernelFixture.ExposureSpec in
            var s = spec
            s.astrometry.x0 += 4000
            s.astrometry.y0 += 3000
            return s
        }
        let base = KernelFixture.discPatch(specs, sources: truth, radius: 10)
        XCTAssertGreaterThan(base.exposures[0].x.min()!, 3900)
        var rng = RandomSource(seed: 32)
        let reference = try SceneKernel(patch: base, sersic: sersic, isPoint: isPoint)
        let patch = KernelFixture.withData(base, models: reference.modelImages(reference.parameters(of: truth)), rng: &rng)
        let double = try SceneKernel(patch: patch, sersic: sersic, isPoint: isPoint)
        var single = double
        single.precision = .single
        var theta = double.parameters(of: truth)
        for i in theta.indices { theta[i] *= 1 + 0.002 * (rng.uniform() - 0.5) }

        let md = double.modelImages(theta), ms = single.modelImages(theta)
        var peakSN = 0.0
        for e in md.indices {
            let peak = md[e].map(abs).max()!
            peakSN = max(peakSN, peak * patch.exposures[e].inverseError[0])
            let worst = zip(md[e], ms[e]).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-6 * peak, "exposure \(e): model difference \(worst), peak \(peak)")
        }
        XCTAssertGreaterThan(peakSN, 5e3)
        let rd = try double.evaluate(theta), rs = try single.evaluate(theta)
        XCTAssertNotEqual(rd.chi2, rs.chi2, "the single-precision loop did not run")
        XCTAssertEqual(rs.logLikelihood, rd.logLikelihood, accuracy: 0.05)
        XCTAssertEqual(rs.gaussianPixelEvaluations, rd.gaussianPixelEvaluations)
        let norm = rd.gradient.map { $0 * $0 }.reduce(0, +).squareRoot()
        var worst = 0.0
        for i in theta.indices {
            let scale = max(abs(rd.gradient[i]), 1e-3 * norm)
            worst = max(worst, abs(rs.gradient[i] - rd.gradient[i]) / scale)
        }
        XCTAssertLessThanOrEqual(worst, 1e-3, "largest gradient difference \(worst) of its scale; ln L \(rd.logLikelihood) vs \(rs.logLikelihood)")
        print("single vs double: Δ ln L \(rs.logLikelihood - rd.logLikelihood), worst gradient difference \(worst) of its scale, peak \(peakSN) σ")
    }

    /// The exact minimum of the exponent over a box against a dense scan of the box.
    func testMinimumExponentOverBox() {
        var rng = RandomSource(seed: 41)
        for _ in 0..<200 {
            let sx = 0.3 + 5 * rng.uniform(), sy = 0.3 + 5 * rng.uniform(), rho = 1.8 * (rng.uniform() - 0.5)
            let cxx = sx * sx, cyy = sy * sy, cxy = rho * sx * sy, det = cxx * cyy - cxy * cxy
            let a = 0.5 * cyy / det, b = -cxy / det, c = 0.5 * cxx / det
            let x0 = 20 * (rng.uniform() - 0.5), y0 = 20 * (rng.uniform() - 0.5)
            let x1 = x0 + 6 * rng.uniform(), y1 = y0 + 6 * rng.uniform()
            let m = Workspace.minimumExponent(a: a, b: b, c: c, x0: x0, x1: x1, y0: y0, y1: y1)
            var scan = Double.infinity
            for i in 0...60 {
                for j in 0...60 {
                    let dx = x0 + (x1 - x0) * Double(i) / 60, dy = y0 + (y1 - y0) * Double(j) / 60
                    scan = min(scan, a * dx * dx + b * dx * dy + c * dy * dy)
                }
            }
            XCTAssertLessThanOrEqual(m, scan * (1 + 1e-12) + 1e-12, "minimum \(m) above a scanned value \(scan)")
            XCTAssertGreaterThanOrEqual(m, scan - 0.05 * max(scan, 1), "minimum \(m) far below the scan \(scan)")
        }
        XCTAssertEqual(Workspace.minimumExponent(a: 1, b: 0, c: 1, x0: -1, x1: 1, y0: -2, y1: 3), 0)
        XCTAssertEqual(Workspace.minimumExponent(a: 1, b: 0, c: 1, x0: 1, x1: 0, y0: 0, y1: 1), .infinity)
    }

    /// On a full grid the kernel's pixel order makes every block of 64 an aligned 8×8 square, and
    /// the order is a permutation of the patch's pixels.
    func testTileOrderIsCompact() {
        var x: [Double] = [], y: [Double] = []
        for j in 0..<16 { for i in 0..<24 { x.append(Double(i) + 3); y.append(Double(j) - 5) } }
        let order = SceneKernel.tileOrder(x: x, y: y)
        XCTAssertEqual(order.sorted(), Array(x.indices))
        for b in 0..<(order.count / 64) {
            let block = order[(64 * b)..<(64 * b + 64)]
            let xs = block.map { x[$0] }, ys = block.map { y[$0] }
            XCTAssertTrue(xs.max()! - xs.min()! == 7 && ys.max()! - ys.min()! == 7, "block \(b)")
        }
    }

    func testParameterRoundTrips() throws {
        var rng = RandomSource(seed: 3)
        let isPoint = [false, true, false]
        let kernel = try SceneKernel(patch: KernelFixture.patch(KernelFixture.specs(size: 8), sourceCount: 3),
                                     sersic: try KernelFixture.sersic(), isPoint: isPoint)
        var sources = KernelFixture.randomSources(&rng, isPoint: isPoint)
        sources[1] = PatchSource(xi: sources[1].xi, eta: sources[1].eta, flux: sources[1].flux, isPoint: true)
        let theta = kernel.parameters(of: sources)
        XCTAssertEqual(theta.count, kernel.layout.count)
        XCTAssertEqual(kernel.sources(from: theta), sources)
        XCTAssertEqual(theta[kernel.layout.index(ofSource: 2, .rhalf)!], sources[2].rhalf)
        let plane = TangentPlane(ra0: 150, dec0: 2)
        let cat = sources[0].source(id: 42, plane: plane)
        XCTAssertEqual(cat.id, 42)
        let back = PatchSource(cat, plane: plane)
        XCTAssertTrue(abs(back.xi - sources[0].xi) < 1e-9 && abs(back.eta - sources[0].eta) < 1e-9)
        XCTAssertTrue(back.flux == sources[0].flux && back.q == sources[0].q && back.rhalf == sources[0].rhalf)
        XCTAssertEqual(kernel.gaussianPixelEvaluationsPerCall, kernel.exposures.reduce(0) {
            $0 + (6 + 1 + 6) * $1.psf.count * $1.pixelCount
        })
    }

    func testBadInputIsRejected() throws {
        let sersic = try KernelFixture.sersic()
        let good = KernelFixture.patch(KernelFixture.specs(size: 6), sourceCount: 2)
        let isPoint = [false, true]
        _ = try SceneKernel(patch: good, sersic: sersic, isPoint: isPoint)
        assertThrows(SceneModelError.self) { try SceneKernel(patch: good, sersic: sersic, isPoint: [false]) }
        var p = good; p.exposures[1].data[3] = .nan
        assertThrows(SceneModelError.invalidArgument("exposure e1: data[3] is not finite")) {
            try SceneKernel(patch: p, sersic: sersic, isPoint: isPoint)
        }
        p = good; p.exposures[0].inverseError[0] = -1
        assertThrows(SceneModelError.self) { try SceneKernel(patch: p, sersic: sersic, isPoint: isPoint) }
        p = good; p.exposures[0].x.removeLast()
        assertThrows(SceneModelError.dimensionMismatch(what: "exposure e0 x", expected: 36, got: 35)) {
            try SceneKernel(patch: p, sersic: sersic, isPoint: isPoint)
        }
        p = good; p.exposures[2].band = 2
        assertThrows(SceneModelError.self) { try SceneKernel(patch: p, sersic: sersic, isPoint: isPoint) }
        p = good; p.exposures[2].psf.components[0].cxx = -1
        assertThrows(SceneModelError.self) { try SceneKernel(patch: p, sersic: sersic, isPoint: isPoint) }
        p = good; p.exposures[0].calibration = 0
        assertThrows(SceneModelError.self) { try SceneKernel(patch: p, sersic: sersic, isPoint: isPoint) }
        p = good; p.exposures[1].astrometry[0].dydXi = .infinity
        assertThrows(SceneModelError.self) { try SceneKernel(patch: p, sersic: sersic, isPoint: isPoint) }
        let kernel = try SceneKernel(patch: good, sersic: sersic, isPoint: isPoint)
        assertThrows(SceneModelError.dimensionMismatch(what: "scene kernel parameters", expected: 12, got: 11)) {
            try kernel.evaluate([Double](repeating: 1, count: 11))
        }
        var theta = kernel.parameters(of: [PatchSource(xi: 0, eta: 0, flux: [1, 1]),
                                           PatchSource(xi: 0, eta: 0, flux: [1, 1], isPoint: true)])
        theta[3] = .nan
        assertThrows(SceneModelError.self) { try kernel.evaluate(theta) }
        let astro = good.exposures.map(\.astrometry)
        assertThrows(SceneModelError.self) {
            try good.subtracting([PatchSource(xi: 0, eta: 0, flux: [1, 1])], astrometry: Array(astro.dropLast()), sersic: sersic)
        }
        assertThrows(SceneModelError.self) {
            try good.subtracting([PatchSource(xi: 0, eta: 0, flux: [1])], astrometry: astro.map { [$0[0]] }, sersic: sersic)
        }
    }
}
