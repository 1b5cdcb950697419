import Astrometry
import Foundation
import SceneModel
import TesseraSupport

/// A mock scene: random sources in a square field, rendered into dithered, rotated exposures
/// with sky and Poisson noise by the same Gaussian-mixture kernel the fits use (so a fit of a
/// mock tests the inference, not model mismatch), and a perturbed starting catalog.
/// Deterministic given the `RandomSource`; the caller draws from one generator in a fixed order
/// (sources, then each exposure's geometry and noise, then the perturbations).
///
/// Units: arcsec for sizes on the sky, pixels for the PSF, radians for angles, catalog flux
/// units (nJy) for fluxes, counts for images.
public struct MockScene: Sendable, Equatable {
    /// Band names (one flux per band).
    public var bands: [String]
    /// Exposure width = height, pixels.
    public var imageSize: Int
    /// Pixel scale, arcsec per pixel.
    public var pixelScale: Double
    /// Field centre (deg): every exposure's WCS reference point and the sources' tangent plane.
    public var centerRA: Double
    public var centerDec: Double
    /// Per band: core σ of the PSF, pixels (a core plus a 2.5× wider wing with 20% of the light).
    public var psfSigma: [Double]
    /// Exposure centres are offset uniformly within ± this many arcsec.
    public var dither: Double
    /// Exposure orientations differ by up to ± this many radians.
    public var rotation: Double
    /// Sky noise per pixel, counts.
    public var skySigma: Double
    /// Electrons per count for the sources' Poisson noise (≤ 0: none).
    public var gain: Double
    /// Counts per catalog flux unit.
    public var calibration: Double
    /// Flux range (log-uniform, first band; other bands vary by ±30%), half-light radius range
    /// (arcsec, log-uniform), Sérsic index and axis-ratio ranges (uniform).
    public var fluxRange: ClosedRange<Double>
    public var rhalfRange: ClosedRange<Double>
    public var sersicRange: ClosedRange<Double>
    public var qRange: ClosedRange<Double>
    /// Fraction of sources that are point sources.
    public var pointFraction: Double
    /// Minimum separation of random sources, arcsec.
    public var minSeparation: Double
    /// Random sources stay this far (arcsec) inside every exposure's edge.
    public var margin: Double
    /// The starting catalog perturbs fluxes by this fraction, positions by this many arcsec and
    /// shapes by a little.
    public var perturbation: Double

    public init(bands: [String], imageSize: Int, pixelScale: Double, centerRA: Double, centerDec: Double,
                psfSigma: [Double], dither: Double, rotation: Double, skySigma: Double, gain: Double, calibration: Double,
                fluxRange: ClosedRange<Double>, rhalfRange: ClosedRange<Double>, sersicRange: ClosedRange<Double>,
                qRange: ClosedRange<Double>, pointFraction: Double, minSeparation: Double, margin: Double, perturbation: Double) {
        self.bands = bands; self.imageSize = imageSize; self.pixelScale = pixelScale
        self.centerRA = centerRA; self.centerDec = centerDec; self.psfSigma = psfSigma
        self.dither = dither; self.rotation = rotation; self.skySigma = skySigma; self.gain = gain
        self.calibration = calibration; self.fluxRange = fluxRange; self.rhalfRange = rhalfRange
        self.sersicRange = sersicRange; self.qRange = qRange; self.pointFraction = pointFraction
        self.minSeparation = minSeparation; self.margin = margin; self.perturbation = perturbation
    }

    /// The tangent plane about the field centre, in which sources are placed and perturbed.
    public var plane: TangentPlane { TangentPlane(ra0: centerRA, dec0: centerDec) }

    /// The PSF of band `b` (index into `bands`), in pixels.
    public func psf(band b: Int) -> PSFMixture {
        let s = psfSigma[b], w = 2.5 * s
        return PSFMixture(components: [GaussianComponent(amplitude: 0.8, cxx: s * s, cyy: s * s),
                                       GaussianComponent(amplitude: 0.2, cxx: w * w, cyy: w * w)])
    }

    /// Up to `count` random sources (ids 1, 2, …) at least `minSeparation` apart, inside every
    /// exposure whatever its dither; fewer if 100 000 tries do not place them all.
    public func randomSources(count: Int, rng: inout RandomSource) -> [Source] {
        let plane = plane
        let half = Double(imageSize) * pixelScale / 2 - margin - dither
        var placed: [(Double, Double)] = []
        var out: [Source] = []
        var tries = 0
        while out.count < count && tries < 100_000 {
            tries += 1
            let xi = half * (2 * rng.uniform() - 1), eta = half * (2 * rng.uniform() - 1)
            if placed.contains(where: { hypot($0.0 - xi, $0.1 - eta) < minSeparation }) { continue }
            placed.append((xi, eta))
            let sky = plane.sky(xi: xi, eta: eta)
            let f = exp(log(fluxRange.lowerBound) + rng.uniform() * log(fluxRange.upperBound / fluxRange.lowerBound))
            let fluxes = bands.indices.map { $0 == 0 ? f : f * (0.7 + 0.6 * rng.uniform()) }
            let point = rng.uniform() < pointFraction
            out.append(Source(id: Int64(out.count + 1), ra: sky.ra, dec: sky.dec, flux: fluxes,
                              q: qRange.lowerBound + rng.uniform() * (qRange.upperBound - qRange.lowerBound),
                              pa: Double.pi * (rng.uniform() - 0.5),
                              sersic: sersicRange.lowerBound + rng.uniform() * (sersicRange.upperBound - sersicRange.lowerBound),
                              rhalf: exp(log(rhalfRange.lowerBound) + rng.uniform() * log(rhalfRange.upperBound / rhalfRange.lowerBound)),
                              isPoint: point))
        }
        return out
    }

    /// One noisy exposure: its WCS, science image and 1σ uncertainty (counts, row-major by y,
    /// `imageSize` × `imageSize`).
    public struct Exposure: Sendable {
        public var wcs: WCS
        public var science: [Double]
        public var uncertainty: [Double]
    }

    /// Draws an exposure of band `b`: a random dither and rotation (east left, north up, rotated),
    /// the sources rendered through that WCS, and Gaussian noise of variance sky² + model/gain.
    public func exposure(band b: Int, sources: [Source], sersic: SersicMixture, rng: inout RandomSource) throws -> Exposure {
        let n = imageSize
        let theta = rotation * (2 * rng.uniform() - 1)
        let dx = dither * (2 * rng.uniform() - 1) / pixelScale, dy = dither * (2 * rng.uniform() - 1) / pixelScale
        let s = pixelScale / 3600
        // RA increases to the left (east left, north up), rotated by theta.
        let wcs = try WCS(crval1: centerRA, crval2: centerDec,
                          crpix1: Double(n + 1) / 2 + dx, crpix2: Double(n + 1) / 2 + dy,
                          cd11: -s * cos(theta), cd12: s * sin(theta), cd21: s * sin(theta), cd22: s * cos(theta))
        let model = try ExposureRenderer.render(sources, bands: bands, band: b, wcs: wcs, width: n, height: n,
                                                psf: psf(band: b), calibration: calibration, sersic: sersic)
        var sci = [Double](repeating: 0, count: n * n), unc = sci
        for i in 0..<(n * n) {
            let variance = skySigma * skySigma + (gain > 0 ? max(model[i], 0) / gain : 0)
            unc[i] = variance.squareRoot()
            sci[i] = model[i] + unc[i] * rng.normal()
        }
        return Exposure(wcs: wcs, science: sci, uncertainty: unc)
    }

    /// A starting guess near `s`: position moved by ~`perturbation`/2 arcsec per axis, fluxes
    /// scaled by 1 ± `perturbation`, galaxy shapes nudged within sane limits.
    public func perturbed(_ s: Source, rng: inout RandomSource) -> Source {
        let plane = plane
        var p = s
        let o = plane.offsets(ra: s.ra, dec: s.dec)
        let sky = plane.sky(xi: o.xi + perturbation * rng.normal() * 0.5, eta: o.eta + perturbation * rng.normal() * 0.5)
        p.ra = sky.ra; p.dec = sky.dec
        p.flux = s.flux.map { $0 * (1 + perturbation * rng.normal()) }
        if !s.isPoint {
            p.rhalf = s.rhalf * exp(0.5 * perturbation * rng.normal())
            p.q = min(0.95, max(0.25, s.q + 0.5 * perturbation * rng.normal()))
            p.sersic = min(5.5, max(0.9, s.sersic + perturbation * rng.normal()))
            p.pa = s.pa
        }
        return p
    }
}
