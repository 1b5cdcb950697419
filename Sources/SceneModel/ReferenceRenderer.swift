import Astrometry
import Foundation

/// A deliberately plain, scalar renderer of the same model `SceneKernel` evaluates: one pixel,
/// one Gaussian at a time, with `Foundation.exp` and the analytic gradient written out term by
/// term. It exists as an independent oracle for the optimised kernel (tests compare the two) and
/// is ~10–50× slower; never use it for fitting.
///
/// Model (conventions in `SceneModelInfo`): for source s, Sérsic component k, PSF component j of
/// an exposure, an image-plane Gaussian with
///   amplitude A = flux[band] · calibration · a_k(n) · psf_j.amplitude  (a_k ≡ 1 for point sources),
///   centre    μ = astrometry.pixel(ξ, η) + (psf_j.x, psf_j.y),
///   covariance C = J Σ_k Jᵀ + C_psf,j + I/12,  Σ_k = (r_k·rhalf)² (u uᵀ + q² v vᵀ),
/// u = (sin pa, cos pa), v = (cos pa, −sin pa); the I/12 term is the second moment of the pixel
/// top-hat (pixel integration to second order). Its value at a pixel centre p is
///   A / (2π √det C) · exp(−½ (p − μ)ᵀ C⁻¹ (p − μ)).
public struct ReferenceRenderer: Sendable {
    public let sersic: SersicMixture
    public init(sersic: SersicMixture) { self.sersic = sersic }

    struct ImageGaussian {
        var amplitude: Double
        var mx, my: Double
        var cxx, cxy, cyy: Double
        // Partial derivatives of (A, mx, my, cxx, cxy, cyy) w.r.t. the source's parameters, per parameter slot.
        var dA: [Double], dmx: [Double], dmy: [Double], dcxx: [Double], dcxy: [Double], dcyy: [Double]
    }

    /// The image-plane Gaussians of one source in one exposure, with their derivatives w.r.t.
    /// the source's parameters in `ParameterLayout` order (fluxes, ξ, η, q, pa, n, rhalf).
    func gaussians(_ s: PatchSource, band: Int, bandCount: Int, exposure e: PatchExposure, astrometry a: LocalAstrometry) -> [ImageGaussian] {
        let np = bandCount + (s.isPoint ? 2 : 6)
        let iXi = bandCount, iEta = bandCount + 1, iQ = bandCount + 2, iPA = bandCount + 3, iN = bandCount + 4, iR = bandCount + 5
        let centre = a.pixel(xi: s.xi, eta: s.eta)
        var components: [(amp: Double, dAdn: Double, sxx: Double, sxy: Double, syy: Double,
                          d: [(Int, Double, Double, Double)])] = []  // sky covariance and its derivatives (slot, dxx, dxy, dyy)
        if s.isPoint {
            components = [(1, 0, 0, 0, 0, [])]
        } else {
            let (amps, dn) = sersic.amplitudes(sersic: s.sersic)
            let u = (sin(s.pa), cos(s.pa)), v = (cos(s.pa), -sin(s.pa))
            let q2 = s.q * s.q
            let bxx = u.0 * u.0 + q2 * v.0 * v.0, bxy = u.0 * u.1 + q2 * v.0 * v.1, byy = u.1 * u.1 + q2 * v.1 * v.1
            for (k, r) in sersic.radii.enumerated() {
                let w = (r * s.rhalf) * (r * s.rhalf)
                let dW = 2 * r * r * s.rhalf
                let dq = (2 * s.q * v.0 * v.0, 2 * s.q * v.0 * v.1, 2 * s.q * v.1 * v.1)
                let f = 1 - q2
                let dpa = (f * 2 * u.0 * v.0, f * (u.0 * v.1 + v.0 * u.1), f * 2 * u.1 * v.1)
                components.append((amps[k], dn[k], w * bxx, w * bxy, w * byy,
                                   [(iR, dW * bxx, dW * bxy, dW * byy), (iQ, w * dq.0, w * dq.1, w * dq.2),
                                    (iPA, w * dpa.0, w * dpa.1, w * dpa.2)]))
            }
        }
        // Pixel covariance J Σ Jᵀ.
        func project(_ xx: Double, _ xy: Double, _ yy: Double) -> (Double, Double, Double) {
            let j00 = a.dxdXi, j01 = a.dxdEta, j10 = a.dydXi, j11 = a.dydEta
            let t00 = j00 * xx + j01 * xy, t01 = j00 * xy + j01 * yy
            let t10 = j10 * xx + j11 * xy, t11 = j10 * xy + j11 * yy
            return (t00 * j00 + t01 * j01, t00 * j10 + t01 * j11, t10 * j10 + t11 * j11)
        }
        let scale = s.flux[band] * e.calibration
        var out: [ImageGaussian] = []
        for c in components {
            let p = project(c.sxx, c.sxy, c.syy)
            for psf in e.psf.components {
                var g = ImageGaussian(amplitude: scale * c.amp * psf.amplitude, mx: centre.x + psf.x, my: centre.y + psf.y,
                                      cxx: p.0 + psf.cxx + 1.0 / 12, cxy: p.1 + psf.cxy, cyy: p.2 + psf.cyy + 1.0 / 12,
                                      dA: .init(repeating: 0, count: np), dmx: .init(repeating: 0, count: np),
                                      dmy: .init(repeating: 0, count: np), dcxx: .init(repeating: 0, count: np),
                                      dcxy: .init(repeating: 0, count: np), dcyy: .init(repeating: 0, count: np))
                g.dA[band] = e.calibration * c.amp * psf.amplitude
                g.dmx[iXi] = a.dxdXi; g.dmx[iEta] = a.dxdEta
                g.dmy[iXi] = a.dydXi; g.dmy[iEta] = a.dydEta
                if !s.isPoint {
                    g.dA[iN] = scale * c.dAdn * psf.amplitude
                    for (slot, xx, xy, yy) in c.d {
                        let d = project(xx, xy, yy)
                        g.dcxx[slot] = d.0; g.dcxy[slot] = d.1; g.dcyy[slot] = d.2
                    }
                }
                out.append(g)
            }
        }
        return out
    }

    /// Model counts at every pixel of every exposure, and (optionally) ln L and its gradient with
    /// respect to the parameters of `sources` in `ParameterLayout` order.
    public func evaluate(patch: Patch, sources: [PatchSource], gradient: Bool = true)
        -> (models: [[Double]], logLikelihood: Double, chi2: Double, gradient: [Double]) {
        let layout = ParameterLayout(bandCount: patch.bands.count, isPoint: sources.map(\.isPoint))
        var grad = [Double](repeating: 0, count: layout.count)
        var chi2 = 0.0
        var models: [[Double]] = []
        for e in patch.exposures {
            let gs = sources.indices.map { gaussians(sources[$0], band: e.band, bandCount: patch.bands.count, exposure: e, astrometry: e.astrometry[$0]) }
            var model = [Double](repeating: 0, count: e.pixelCount)
            for i in 0..<e.pixelCount {
                for list in gs { for g in list { model[i] += value(g, e.x[i], e.y[i]) } }
            }
            models.append(model)
            var weighted = [Double](repeating: 0, count: e.pixelCount)
            for i in 0..<e.pixelCount {
                let r = (e.data[i] - model[i]) * e.inverseError[i]
                chi2 += r * r
                weighted[i] = r * e.inverseError[i]
            }
            guard gradient else { continue }
            for (s, list) in gs.enumerated() {
                let o = layout.offsets[s]
                for g in list {
                    let det = g.cxx * g.cyy - g.cxy * g.cxy
                    let fxx = g.cyy / det, fxy = -g.cxy / det, fyy = g.cxx / det
                    var sA = 0.0, sX = 0.0, sY = 0.0, gxx = 0.0, gxy = 0.0, gyy = 0.0
                    for i in 0..<e.pixelCount {
                        let unit = value(g, e.x[i], e.y[i], amplitude: 1) * weighted[i]
                        let v = g.amplitude * unit
                        let dx = e.x[i] - g.mx, dy = e.y[i] - g.my
                        let ux = fxx * dx + fxy * dy, uy = fxy * dx + fyy * dy  // F d
                        sA += unit
                        sX += v * ux; sY += v * uy
                        // G = F d dᵀ F − F
                        gxx += v * (ux * ux - fxx); gxy += v * (ux * uy - fxy); gyy += v * (uy * uy - fyy)
                    }
                    for slot in 0..<g.dA.count {
                        var d = 0.0
                        d += sA * g.dA[slot]
                        d += sX * g.dmx[slot] + sY * g.dmy[slot]
                        d += 0.5 * (gxx * g.dcxx[slot] + 2 * gxy * g.dcxy[slot] + gyy * g.dcyy[slot])
                        grad[o + slot] += d
                    }
                }
            }
        }
        return (models, -0.5 * chi2, chi2, grad)
    }

    func value(_ g: ImageGaussian, _ x: Double, _ y: Double, amplitude: Double? = nil) -> Double {
        let det = g.cxx * g.cyy - g.cxy * g.cxy
        let dx = x - g.mx, dy = y - g.my
        let m = (g.cyy * dx * dx - 2 * g.cxy * dx * dy + g.cxx * dy * dy) / det
        return (amplitude ?? g.amplitude) / (2 * Double.pi * det.squareRoot()) * exp(-0.5 * m)
    }
}
