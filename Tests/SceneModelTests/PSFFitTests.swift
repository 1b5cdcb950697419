import Foundation
import TesseraTestSupport
import XCTest
@testable import SceneModel

/// Renders `mixture` (intrinsic PSF, means relative to (cx, cy)) onto a width × height stamp,
/// integrating each pixel by an s × s midpoint rule. The midpoint rule's box has variance
/// (1 − 1/s²)/12 instead of 1/12: with s = 12 that is 0.6 % of 1/12, i.e. < 0.04 % of the
/// narrowest test component's variance.
func renderIntegrated(_ mixture: PSFMixture, width: Int, height: Int, cx: Double, cy: Double, oversample s: Int = 12) -> [Double] {
    var out = [Double](repeating: 0, count: width * height)
    let pre = mixture.components.map(PSFFitter.Precomputed.init)
    for y in 0..<height {
        for x in 0..<width {
            var v = 0.0
            for iy in 0..<s {
                for ix in 0..<s {
                    let dx = Double(x) + (Double(ix) + 0.5) / Double(s) - 0.5 - cx
                    let dy = Double(y) + (Double(iy) + 0.5) / Double(s) - 0.5 - cy
                    for p in pre { v += p.density(dx, dy) }
                }
            }
            out[y * width + x] = v / Double(s * s)
        }
    }
    return out
}

/// Exact pixel integral of a circular Gaussian (σ pixels) centred at (cx, cy): a product of erfs.
func renderExactCircular(sigma: Double, width: Int, height: Int, cx: Double, cy: Double) -> [Double] {
    func band(_ i: Int, _ c: Double) -> Double {
        let s = sigma * 2.0.squareRoot()
        return 0.5 * (erf((Double(i) + 0.5 - c) / s) - erf((Double(i) - 0.5 - c) / s))
    }
    var out = [Double](repeating: 0, count: width * height)
    for y in 0..<height { for x in 0..<width { out[y * width + x] = band(x, cx) * band(y, cy) } }
    return out
}

final class PSFFitTests: XCTestCase {
    func testSingleGaussianRemovesPixelResponse() throws {
        // Exact pixel integration: the image's covariance is σ² + 1/12 (to the accuracy of a
        // Gaussian approximation of the box); the stored one must be σ².
        let sigma = 1.5
        let values = renderExactCircular(sigma: sigma, width: 25, height: 25, cx: 12.3, cy: 11.8)
        let image = try PSFImage(width: 25, height: 25, values: values.map { 3.7 * $0 })
        let r = try PSFFitter.fit(image, options: PSFFitOptions(components: 1))
        let c = r.mixture.components[0]
        XCTAssertTrue(r.converged)
        XCTAssertLessThan(abs(c.amplitude - 1), 1e-12)
        XCTAssertLessThan(abs(c.cxx / (sigma * sigma) - 1), 1e-3, "cxx \(c.cxx)")
        XCTAssertLessThan(abs(c.cyy / (sigma * sigma) - 1), 1e-3, "cyy \(c.cyy)")
        XCTAssertLessThan(abs(c.cxy), 1e-6)
        // The flux-weighted centroid is the true centre, so the mean offset is ~0.
        XCTAssertTrue(abs(r.centreX - 12.3) < 1e-4 && abs(r.centreY - 11.8) < 1e-4)
        XCTAssertTrue(abs(c.x) < 1e-9 && abs(c.y) < 1e-9)
        XCTAssertLessThan(r.residualFraction, 2e-3)
        XCTAssertEqual(r.clampedComponents, 0)
    }

    func testThreeComponentMixtureRecoversMomentsAndWidths() throws {
        let truth = PSFMixture(components: [
            GaussianComponent(amplitude: 0.5, cxx: 1.69, cyy: 1.69),
            GaussianComponent(amplitude: 0.35, x: 0.2, y: -0.1, cxx: 6.0, cxy: 1.0, cyy: 4.5),
            GaussianComponent(amplitude: 0.15, cxx: 30, cxy: -2, cyy: 26),
        ])
        let (w, h, cx, cy) = (61, 61, 30.2, 29.7)
        let image = try PSFImage(width: w, height: h, values: renderIntegrated(truth, width: w, height: h, cx: cx, cy: cy))
        let r = try PSFFitter.fit(image, options: PSFFitOptions(components: 3, centre: (cx, cy)))
        XCTAssertLessThan(abs(r.mixture.totalAmplitude - 1), 1e-12)
        // Total second moments (intrinsic) to 1 %.
        let t = truth.secondMoments, f = r.mixture.secondMoments
        XCTAssertLessThan(abs(f.cxx / t.cxx - 1), 0.01, "cxx \(f.cxx) vs \(t.cxx)")
        XCTAssertLessThan(abs(f.cyy / t.cyy - 1), 0.01, "cyy \(f.cyy) vs \(t.cyy)")
        XCTAssertLessThan(abs(f.cxy - t.cxy), 0.01 * (t.cxx * t.cyy).squareRoot(), "cxy \(f.cxy) vs \(t.cxy)")
        // Component by component (sorted by size): widths √cxx, √cyy to ~1 %, amplitudes to 0.01.
        let fitted = r.mixture.components.sorted { $0.cxx + $0.cyy < $1.cxx + $1.cyy }
        for (a, b) in zip(fitted, truth.components) {
            XCTAssertLessThan(abs((a.cxx / b.cxx).squareRoot() - 1), 0.012, "σx \(a) vs \(b)")
            XCTAssertLessThan(abs((a.cyy / b.cyy).squareRoot() - 1), 0.012, "σy \(a) vs \(b)")
            XCTAssertLessThan(abs(a.amplitude - b.amplitude), 0.01, "amplitude \(a) vs \(b)")
            XCTAssertTrue(abs(a.x - b.x) < 0.05 && abs(a.y - b.y) < 0.05, "mean \(a) vs \(b)")
        }
        XCTAssertLessThan(r.residualFraction, 0.01)
    }

    func testFewerComponentsFitWorseButKeepTheMoments() throws {
        // A 2-component PSF fitted with one Gaussian: the second moments are still those of the
        // image (EM's fixed point), while the residual shows the misfit.
        let truth = PSFMixture(components: [
            GaussianComponent(amplitude: 0.7, cxx: 1.44, cyy: 1.44),
            GaussianComponent(amplitude: 0.3, cxx: 12, cyy: 12),
        ])
        let image = try PSFImage(width: 41, height: 41, values: renderIntegrated(truth, width: 41, height: 41, cx: 20, cy: 20, oversample: 8))
        let one = try PSFFitter.fit(image, options: PSFFitOptions(components: 1))
        let two = try PSFFitter.fit(image, options: PSFFitOptions(components: 2))
        let t = truth.secondMoments
        XCTAssertLessThan(abs(one.mixture.secondMoments.cxx / t.cxx - 1), 0.01)
        XCTAssertGreaterThan(one.residualFraction, 0.1)
        XCTAssertLessThan(two.residualFraction, 0.01)
        XCTAssertGreaterThan(one.residualFraction, 10 * two.residualFraction)
    }

    func testUndersampledCoreIsClampedPositiveDefinite() throws {
        // A point-like PSF: all flux in one pixel but a little in its neighbours. The
        // pixel-convolved width is below √(1/12), so the intrinsic covariance is floored.
        var values = [Double](repeating: 0, count: 49)
        values[24] = 1; values[23] = 0.001; values[25] = 0.001; values[17] = 0.001; values[31] = 0.001
        let r = try PSFFitter.fit(try PSFImage(width: 7, height: 7, values: values), options: PSFFitOptions(components: 1))
        XCTAssertEqual(r.clampedComponents, 1)
        try r.mixture.validate(name: "clamped")
        XCTAssertLessThan(abs(r.mixture.components[0].cxx - 1e-3), 1e-9)
    }

    func testFloorKeepsEigenvectors() {
        var c = GaussianComponent(amplitude: 1, cxx: 2, cxy: 1.9, cyy: 2)  // eigenvalues 3.9, 0.1 along (1,1), (1,−1)
        XCTAssertTrue(PSFFitter.floorCovariance(&c, minimum: 0.5))
        XCTAssertTrue(abs(c.cxx - 2.2) < 1e-12 && abs(c.cyy - 2.2) < 1e-12 && abs(c.cxy - 1.7) < 1e-12)
        var d = GaussianComponent(amplitude: 1, cxx: 2, cyy: 1)
        XCTAssertFalse(PSFFitter.floorCovariance(&d, minimum: 0.5))
    }

    func testBadInputsGiveClearErrors() throws {
        assertThrows(SceneModelError.self) { try PSFImage(width: 0, height: 3, values: []) }
        assertThrows(SceneModelError.dimensionMismatch(what: "PSF image 2 × 2 pixels", expected: 4, got: 3)) {
            try PSFImage(width: 2, height: 2, values: [1, 2, 3])
        }
        let zero = try PSFImage(width: 3, height: 3, values: [Double](repeating: 0, count: 9))
        assertThrows(SceneModelError.invalidArgument("PSF image: no positive pixels (all zero or negative)")) {
            try PSFFitter.fit(zero, options: PSFFitOptions(components: 1))
        }
        var v = [Double](repeating: 1, count: 9); v[5] = .nan
        let nan = try PSFImage(width: 3, height: 3, values: v)
        assertThrows(SceneModelError.invalidArgument("PSF image: pixel (2, 1) is not finite (nan)")) {
            try PSFFitter.fit(nan, options: PSFFitOptions(components: 1))
        }
        let ok = try PSFImage(width: 3, height: 3, values: [Double](repeating: 1, count: 9))
        assertThrows(SceneModelError.invalidArgument("PSF fit: number of components must be ≥ 1, got 0")) {
            try PSFFitter.fit(ok, options: PSFFitOptions(components: 0))
        }
    }
}

final class PSFRefineTests: XCTestCase {
    /// Sum of squared pixel residuals of a fit's mixture rendered the renderer's way (covariance +
    /// I/12 at pixel centres), with the least-squares flux scale (the same rule for every fit).
    func ssr(_ r: PSFFitResult, _ image: PSFImage) -> Double {
        let pre = r.mixture.components.map { c in
            PSFFitter.Precomputed(GaussianComponent(amplitude: c.amplitude, x: c.x + r.centreX, y: c.y + r.centreY,
                                                    cxx: c.cxx + 1.0 / 12, cxy: c.cxy, cyy: c.cyy + 1.0 / 12))
        }
        var m = [Double](repeating: 0, count: image.values.count)
        for y in 0..<image.height { for x in 0..<image.width { m[y * image.width + x] = pre.reduce(0) { $0 + $1.density(Double(x), Double(y)) } } }
        let scale = zip(m, image.values).reduce(0) { $0 + $1.0 * $1.1 } / m.reduce(0) { $0 + $1 * $1 }
        return zip(m, image.values).reduce(0) { $0 + ($1.1 - scale * $1.0) * ($1.1 - scale * $1.0) }
    }

    func testJacobianMatchesFiniteDifferences() {
        let p = PSFFitter.RefineParameters(GaussianComponent(amplitude: 2.5, x: 3.2, y: 2.7, cxx: 2.0, cxy: 0.6, cyy: 1.3))
        XCTAssertTrue(abs(p.component.cxy - 0.6) < 1e-12 && abs(p.component.cyy - 1.3) < 1e-12)
        for (px, py) in [(3.0, 3.0), (5.0, 1.0), (1.0, 4.0)] {
            let (_, g) = p.valueAndGradient(px, py)
            for q in 0..<6 {
                var a = p, b = p
                let h = 1e-6
                a.theta[q] += h; b.theta[q] -= h
                let fd = (a.valueAndGradient(px, py).0 - b.valueAndGradient(px, py).0) / (2 * h)
                XCTAssertLessThan(abs(fd - g[q]), 1e-7 * max(1, abs(g[q])), "θ\(q) at (\(px), \(py)): \(g[q]) vs \(fd)")
            }
        }
    }

    func testRefinementLowersTheResidualOfANonGaussianNoisyPSF() throws {
        // A Moffat profile (β = 3, α = 3 px) — no finite Gaussian mixture is exact — with
        // Gaussian noise, so some pixels are negative.
        let (w, h, cx, cy) = (41, 41, 20.3, 19.8)
        var values = [Double](repeating: 0, count: w * h)
        var state: UInt64 = 12345
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        for y in 0..<h {
            for x in 0..<w {
                var v = 0.0
                for iy in 0..<4 { for ix in 0..<4 {
                    let dx = Double(x) + (Double(ix) + 0.5) / 4 - 0.5 - cx, dy = Double(y) + (Double(iy) + 0.5) / 4 - 0.5 - cy
                    v += pow(1 + (dx * dx + dy * dy) / 9, -3) / 16
                } }
                let noise = (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
                values[y * w + x] = v + 5e-4 * noise
            }
        }
        let image = try PSFImage(width: w, height: h, values: values)
        XCTAssertTrue(values.contains { $0 < 0 })
        let em = try PSFFitter.fit(image, options: PSFFitOptions(components: 3))
        let ls = try PSFFitter.fit(image, options: PSFFitOptions(components: 3, refine: true))
        XCTAssertGreaterThan(ls.refineIterations, 0)
        XCTAssertLessThan(abs(ls.mixture.totalAmplitude - 1), 1e-12)
        try ls.mixture.validate(name: "refined")
        let (sEM, sLS) = (ssr(em, image), ssr(ls, image))
        XCTAssertLessThan(sLS, 0.3 * sEM, "squared residual EM \(sEM), refined \(sLS)")
        // Noise alone gives ≈ n σ² = 1681 × 2.5e-7.
        XCTAssertLessThan(sLS, 3 * Double(w * h) * 2.5e-7, "refined squared residual \(sLS)")
        XCTAssertLessThan(ls.residualFraction, em.residualFraction)
    }

    func testRefinementKeepsAnExactMixture() throws {
        // The renderer's own model as data: the refinement's optimum is the truth itself.
        let truth = PSFMixture(components: [
            GaussianComponent(amplitude: 0.6, cxx: 1.1, cxy: 0.2, cyy: 0.9),
            GaussianComponent(amplitude: 0.4, x: 0.3, y: -0.2, cxx: 7, cxy: -1, cyy: 5),
        ])
        let (w, h, cx, cy) = (31, 31, 15.1, 14.6)
        let pre = truth.components.map { c in
            PSFFitter.Precomputed(GaussianComponent(amplitude: 5 * c.amplitude, x: c.x + cx, y: c.y + cy,
                                                    cxx: c.cxx + 1.0 / 12, cxy: c.cxy, cyy: c.cyy + 1.0 / 12))
        }
        var values = [Double](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w { values[y * w + x] = pre.reduce(0) { $0 + $1.density(Double(x), Double(y)) } } }
        let r = try PSFFitter.fit(try PSFImage(width: w, height: h, values: values),
                                  options: PSFFitOptions(components: 2, centre: (cx, cy), refine: true))
        let fitted = r.mixture.components.sorted { $0.cxx < $1.cxx }
        for (a, b) in zip(fitted, truth.components) {
            for (u, v) in [(a.amplitude, b.amplitude), (a.x, b.x), (a.y, b.y), (a.cxx, b.cxx), (a.cxy, b.cxy), (a.cyy, b.cyy)] {
                XCTAssertLessThan(abs(u - v), 1e-6, "\(a) vs \(b)")
            }
        }
        XCTAssertLessThan(r.residualFraction, 1e-6)
    }
}
