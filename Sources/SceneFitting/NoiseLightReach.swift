import Foundation
import SceneModel

/// How far (arcsec) a source's light matters against the noise: the largest distance from its
/// centre, along its major axis, at which its PSF-convolved model still puts at least
/// `threshold` × σ into a pixel, in any band, where σ is the band's per-pixel noise combined over
/// its exposures (σ_pixel/√N_exposures). Beyond it the source adds less than that to every pixel,
/// so a region whose fitted pixels lie farther away need not hold it fixed.
///
/// Why: `SuperScene.lightReach`'s fixed 8 r_half + 0.5″ treats a faint galaxy like a bright one.
/// In a crowded scene (GalSim seed 21: 30 sources in 4.4″ × 4.4″) every region then holds nearly
/// every other source fixed, so no two regions may be out at once and `sample` ran one region at a
/// time with two workers (1155 s of patch time in 1082 s wall; issue 16). The noise decides what
/// is negligible; this reach is never larger than the fixed rule (`cap`).
/// The runner computes it once, from the starting catalog's fluxes and shapes.
///
/// Units: fluxes in catalog units, noise in catalog flux units per pixel, pixel area in arcsec²,
/// PSF variances in arcsec² (the mixture's pixel covariances times the pixel scale²).
public struct NoiseLightReach: Sendable {
    public struct Band: Sendable {
        /// Per-pixel noise, catalog flux units, combined over the band's exposures.
        public var noise: Double
        /// Pixel area, arcsec².
        public var pixelArea: Double
        /// PSF components: amplitude and the (circularised) variance, arcsec².
        public var psf: [(amplitude: Double, variance: Double)]

        public init(noise: Double, pixelArea: Double, psf: [(amplitude: Double, variance: Double)]) {
            self.noise = noise; self.pixelArea = pixelArea; self.psf = psf
        }
    }

    /// One entry per catalog band, in the sources' flux order.
    public var bands: [Band]
    /// The fraction of the per-pixel noise below which light is neglected.
    public var threshold: Double
    public var sersic: SersicMixture

    public init(bands: [Band], threshold: Double, sersic: SersicMixture) {
        self.bands = bands; self.threshold = threshold; self.sersic = sersic
    }

    /// The source's model light in one pixel of band b at distance r (arcsec) along its major axis,
    /// in units of that band's noise.
    public func pixelSignificance(_ s: Source, band b: Int, at r: Double) -> Double {
        let band = bands[b]
        let flux = abs(s.flux[b])
        guard flux > 0, band.noise > 0 else { return 0 }
        // Galaxy components (variance (r_k r_half)² along the major axis, q² times that along the
        // minor); a point source is one component of zero width.
        let comps: [(Double, Double)] = s.isPoint ? [(1, 0)]
            : zip(sersic.amplitudes(sersic: s.sersic).values, sersic.radii).map { a, rk in (a, rk * rk * s.rhalf * s.rhalf) }
        var value = 0.0
        for (a, v) in comps where a != 0 {
            for p in band.psf {
                let major = v + p.variance, minor = s.q * s.q * v + p.variance
                value += a * p.amplitude * Foundation.exp(-r * r / (2 * major)) / (2 * Double.pi * (major * minor).squareRoot())
            }
        }
        return flux * value * band.pixelArea / band.noise
    }

    /// The reach (arcsec): at most `cap`; 0 when the source's brightest pixel is already below the threshold.
    public func reach(of s: Source, cap: Double) -> Double {
        var best = 0.0
        for b in bands.indices {
            let f = { (r: Double) in pixelSignificance(s, band: b, at: r) - threshold }
            if f(cap) >= 0 { return cap }
            if f(best) < 0 { continue }  // this band reaches no farther than one already found
            // The profile falls monotonically with r (a sum of centred Gaussians): bisect.
            var lo = best, hi = cap
            for _ in 0..<50 {
                let mid = 0.5 * (lo + hi)
                if f(mid) >= 0 { lo = mid } else { hi = mid }
            }
            best = lo
        }
        return best
    }
}
