/// Gaussian mixtures on the sky (arcsec) and their rendering onto a stamp through its Jacobian.
///
/// Why sky units: an object's profile is one thing on the sky, while every epoch samples it with
/// its own pixel grid, orientation and PSF. Galaxies and PSFs are therefore mixtures in (u, v)
/// arcsec; a stamp's Jacobian turns each pixel centre into (u, v). Convolution of two mixtures is
/// exact (covariances add, amplitudes multiply).
import Foundation

/// One Gaussian in (u, v) arcsec: `flux` (total, in image flux units) at centre (u, v), with
/// covariance (cuu, cuv, cvv) in arcsec².
public struct SkyGaussian: Sendable, Equatable, Codable {
    public var flux: Double
    public var u: Double
    public var v: Double
    public var cuu: Double
    public var cuv: Double
    public var cvv: Double

    public init(flux: Double, u: Double = 0, v: Double = 0, cuu: Double, cuv: Double = 0, cvv: Double) {
        self.flux = flux; self.u = u; self.v = v; self.cuu = cuu; self.cuv = cuv; self.cvv = cvv
    }
}

/// A sum of sky Gaussians (a galaxy, a PSF, or their convolution).
public struct SkyMixture: Sendable, Equatable, Codable {
    public var components: [SkyGaussian]

    public init(_ components: [SkyGaussian]) { self.components = components }

    public var totalFlux: Double { components.reduce(0) { $0 + $1.flux } }

    /// A round Gaussian PSF of full width at half maximum `fwhm` arcsec and unit flux.
    public static func gaussianPSF(fwhm: Double) -> SkyMixture {
        let sigma = fwhm / (2 * (2 * log(2.0)).squareRoot())
        return SkyMixture([SkyGaussian(flux: 1, cuu: sigma * sigma, cvv: sigma * sigma)])
    }

    /// An elliptical galaxy of total `flux` centred at (u, v): round profile components
    /// `(fraction, sigma)` (sigmas in arcsec, fractions summing to 1), sheared by the reduced
    /// ellipticity (g1, g2), |g| < 1, with the area kept (covariance σ² A Aᵀ, A = [[1+g1, g2],
    /// [g2, 1−g1]] / √(1−g²)).
    public static func galaxy(flux: Double, u: Double, v: Double, g1: Double, g2: Double,
                              profile: [(fraction: Double, sigma: Double)]) -> SkyMixture {
        let g2sum = g1 * g1 + g2 * g2
        precondition(g2sum < 1, "SkyMixture.galaxy: |g| must be < 1")
        let s = 1 / (1 - g2sum).squareRoot()
        let a11 = (1 + g1) * s, a12 = g2 * s, a22 = (1 - g1) * s
        // A Aᵀ for symmetric A.
        let m11 = a11 * a11 + a12 * a12, m12 = a11 * a12 + a12 * a22, m22 = a12 * a12 + a22 * a22
        return SkyMixture(profile.map { p in
            SkyGaussian(flux: flux * p.fraction, u: u, v: v, cuu: p.sigma * p.sigma * m11,
                        cuv: p.sigma * p.sigma * m12, cvv: p.sigma * p.sigma * m22)
        })
    }

    /// The exact convolution with `psf` (a unit-flux PSF keeps the total flux).
    public func convolved(with psf: SkyMixture) -> SkyMixture {
        SkyMixture(components.flatMap { g in
            psf.components.map { p in
                SkyGaussian(flux: g.flux * p.flux, u: g.u + p.u, v: g.v + p.v,
                            cuu: g.cuu + p.cuu, cuv: g.cuv + p.cuv, cvv: g.cvv + p.cvv)
            }
        })
    }

    /// Surface brightness (flux per arcsec²) at sky offset (u, v).
    public func density(u: Double, v: Double) -> Double {
        var total = 0.0
        for g in components {
            let det = g.cuu * g.cvv - g.cuv * g.cuv
            let du = u - g.u, dv = v - g.v
            let chi2 = (g.cvv * du * du - 2 * g.cuv * du * dv + g.cuu * dv * dv) / det
            if chi2 < 60 { total += g.flux * exp(-0.5 * chi2) / (2 * Double.pi * det.squareRoot()) }
        }
        return total
    }

    /// Adds this mixture to a `rows × cols` row-major stamp: each pixel gets the surface
    /// brightness at its centre times the pixel's solid angle |det J| (so a well-sampled,
    /// fully enclosed mixture sums to its flux). Pixels farther than 6σ of the widest component
    /// from every centre are skipped.
    public func render(into pixels: inout [Double], rows: Int, cols: Int, jacobian: StampJacobian) {
        precondition(pixels.count == rows * cols, "SkyMixture.render: \(rows) × \(cols) stamp needs \(rows * cols) pixels")
        guard !components.isEmpty else { return }
        let area = abs(jacobian.determinant)
        let maxSigma = components.map { max($0.cuu, $0.cvv).squareRoot() }.max()!
        let reach2 = (6 * maxSigma) * (6 * maxSigma)
        let centre = components[0]
        for row in 0..<rows {
            for col in 0..<cols {
                let (u, v) = jacobian.uv(row: Double(row), col: Double(col))
                let du = u - centre.u, dv = v - centre.v
                if du * du + dv * dv > reach2 { continue }
                pixels[row * cols + col] += area * density(u: u, v: v)
            }
        }
    }
}
