import Foundation
import SceneModel
import TesseraFITS
import TesseraSupport

/// `tessera mock-scene`: renders a catalog into dithered, rotated FITS exposures with sky and
/// Poisson noise, using the same Gaussian-mixture renderer the fits use (so a fit of a mock
/// tests the inference, not model mismatch). Writes, under the run directory:
/// `images/<band>-<k>.fits` (HDU 1 SCI with TAN WCS, FILTER, CALIB, EXPNAME; HDU 2 UNC, 1σ),
/// `truth.fits`, `initial.fits` (a perturbed starting catalog), `psf.h5` (the PSF store).
public enum MockSceneRunner {
    public struct Output: Sendable {
        public var images: [String]
        public var truth: SceneCatalog
        public var initial: SceneCatalog
        public var psfStore: String
    }

    public static func run(_ c: MockSceneConfiguration, directory: String, sersic: SersicMixture) throws -> Output {
        var rng = RandomSource(seed: c.seed)
        let plane = TangentPlane(ra0: c.center[0], dec0: c.center[1])
        let truth: SceneCatalog
        if let path = c.catalog {
            truth = try SceneCatalog.read(path, bands: c.bands)
        } else {
            truth = SceneCatalog(bands: c.bands, sources: randomSources(c, plane: plane, rng: &rng))
        }
        let fm = FileManager.default
        let imageDir = (directory as NSString).appendingPathComponent("images")
        try fm.createDirectory(atPath: imageDir, withIntermediateDirectories: true)

        // PSF per band: a core and a wider wing.
        var psfs: [String: PSFMixture] = [:]
        for (b, band) in c.bands.enumerated() {
            let s = c.psfSigma[b], w = 2.5 * s
            psfs[band] = PSFMixture(components: [GaussianComponent(amplitude: 0.8, cxx: s * s, cyy: s * s),
                                                 GaussianComponent(amplitude: 0.2, cxx: w * w, cyy: w * w)])
        }
        let psfPath = (directory as NSString).appendingPathComponent("psf.h5")
        try PSFStore.write(psfs, to: URL(fileURLWithPath: psfPath))

        var images: [String] = []
        let n = c.imageSize
        for (b, band) in c.bands.enumerated() {
            for k in 0..<c.exposuresPerBand {
                let name = "\(band)-\(k)"
                let theta = c.rotation * (2 * rng.uniform() - 1)
                let dx = c.dither * (2 * rng.uniform() - 1) / c.pixelScale, dy = c.dither * (2 * rng.uniform() - 1) / c.pixelScale
                let s = c.pixelScale / 3600
                // RA increases to the left (east left, north up), rotated by theta.
                let wcs = try WCS(crval1: c.center[0], crval2: c.center[1],
                                  crpix1: Double(n + 1) / 2 + dx, crpix2: Double(n + 1) / 2 + dy,
                                  cd11: -s * cos(theta), cd12: s * sin(theta), cd21: s * sin(theta), cd22: s * cos(theta))
                let model = try PatchBuilder.renderExposure(truth.sources, bands: c.bands, band: b, wcs: wcs, width: n, height: n,
                                                            psf: psfs[band]!, calibration: c.calibration, sersic: sersic)
                var sci = [Double](repeating: 0, count: n * n), unc = sci
                for i in 0..<(n * n) {
                    let variance = c.skySigma * c.skySigma + (c.gain > 0 ? max(model[i], 0) / c.gain : 0)
                    unc[i] = variance.squareRoot()
                    sci[i] = model[i] + unc[i] * rng.normal()
                }
                let path = (imageDir as NSString).appendingPathComponent("\(name).fits")
                try? fm.removeItem(atPath: path)
                let fits = try FITSFile(creatingAt: path, overwrite: true)
                try fits.appendImage(FITSImage<Float>(shape: [1], pixels: [0]))
                let sciHDU = try fits.appendImage(FITSImage(width: n, height: n, pixels: sci.map(Float.init)), extname: "SCI")
                try fits.writeWCS(wcs, hdu: sciHDU)
                try fits.writeKeyword("FILTER", .string(band), comment: "band", hdu: sciHDU)
                try fits.writeKeyword("CALIB", .double(c.calibration), comment: "counts per nJy", hdu: sciHDU)
                try fits.writeKeyword("EXPNAME", .string(name), comment: "exposure name", hdu: sciHDU)
                try fits.writeKeyword("BUNIT", .string("counts"), comment: "", hdu: sciHDU)
                try fits.appendImage(FITSImage(width: n, height: n, pixels: unc.map(Float.init)), extname: "UNC")
                try fits.close()
                images.append(path)
            }
        }
        let truthPath = (directory as NSString).appendingPathComponent("truth.fits")
        try truth.write(truthPath)
        let initial = SceneCatalog(bands: c.bands, sources: truth.sources.map { perturb($0, c: c, plane: plane, rng: &rng) }, roi: truth.roi)
        try initial.write((directory as NSString).appendingPathComponent("initial.fits"))
        return Output(images: images, truth: truth, initial: initial, psfStore: psfPath)
    }

    static func randomSources(_ c: MockSceneConfiguration, plane: TangentPlane, rng: inout RandomSource) -> [Source] {
        let half = Double(c.imageSize) * c.pixelScale / 2 - c.margin - c.dither
        var placed: [(Double, Double)] = []
        var out: [Source] = []
        var tries = 0
        while out.count < c.count && tries < 100_000 {
            tries += 1
            let xi = half * (2 * rng.uniform() - 1), eta = half * (2 * rng.uniform() - 1)
            if placed.contains(where: { hypot($0.0 - xi, $0.1 - eta) < c.minSeparation }) { continue }
            placed.append((xi, eta))
            let sky = plane.sky(xi: xi, eta: eta)
            let f = exp(log(c.fluxRange[0]) + rng.uniform() * log(c.fluxRange[1] / c.fluxRange[0]))
            let fluxes = c.bands.indices.map { $0 == 0 ? f : f * (0.7 + 0.6 * rng.uniform()) }
            let point = rng.uniform() < c.pointFraction
            out.append(Source(id: Int64(out.count + 1), ra: sky.ra, dec: sky.dec, flux: fluxes,
                              q: c.qRange[0] + rng.uniform() * (c.qRange[1] - c.qRange[0]),
                              pa: Double.pi * (rng.uniform() - 0.5),
                              sersic: c.sersicRange[0] + rng.uniform() * (c.sersicRange[1] - c.sersicRange[0]),
                              rhalf: exp(log(c.rhalfRange[0]) + rng.uniform() * log(c.rhalfRange[1] / c.rhalfRange[0])),
                              isPoint: point))
        }
        return out
    }

    static func perturb(_ s: Source, c: MockSceneConfiguration, plane: TangentPlane, rng: inout RandomSource) -> Source {
        var p = s
        let o = plane.offsets(ra: s.ra, dec: s.dec)
        let sky = plane.sky(xi: o.xi + c.perturbation * rng.normal() * 0.5, eta: o.eta + c.perturbation * rng.normal() * 0.5)
        p.ra = sky.ra; p.dec = sky.dec
        p.flux = s.flux.map { $0 * (1 + c.perturbation * rng.normal()) }
        if !s.isPoint {
            p.rhalf = s.rhalf * exp(0.5 * c.perturbation * rng.normal())
            p.q = min(0.95, max(0.25, s.q + 0.5 * c.perturbation * rng.normal()))
            p.sersic = min(5.5, max(0.9, s.sersic + c.perturbation * rng.normal()))
            p.pa = s.pa
        }
        return p
    }
}
