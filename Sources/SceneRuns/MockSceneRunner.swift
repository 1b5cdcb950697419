import Astrometry
import Foundation
import ImageStores
import SceneFitting
import SceneModel
import SystemPackage
import TesseraFITS
import TesseraSupport

/// `tessera mock-scene`: renders a catalog into dithered, rotated FITS exposures with sky and
/// Poisson noise (`SceneFitting.MockScene` does the science) and writes the files, under the run
/// directory:
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
        let mock = c.scene
        let truth: SceneCatalog
        if let path = c.catalog {
            truth = try SceneCatalog.read(path, bands: c.bands)
        } else {
            truth = SceneCatalog(bands: c.bands, sources: mock.randomSources(count: c.count, rng: &rng))
        }
        let fm = FileManager.default
        let imageDir = FilePath(directory).appending("images").string
        try fm.createDirectory(atPath: imageDir, withIntermediateDirectories: true)

        var psfs: [String: PSFMixture] = [:]
        for (b, band) in c.bands.enumerated() { psfs[band] = mock.psf(band: b) }
        let psfPath = FilePath(directory).appending("psf.h5").string
        try PSFStore.write(psfs, to: URL(fileURLWithPath: psfPath))

        var images: [String] = []
        let n = c.imageSize
        for (b, band) in c.bands.enumerated() {
            for k in 0..<c.exposuresPerBand {
                let name = "\(band)-\(k)"
                let exposure = try mock.exposure(band: b, sources: truth.sources, sersic: sersic, rng: &rng)
                let path = FilePath(imageDir).appending("\(name).fits").string
                try? fm.removeItem(atPath: path)
                let fits = try FITSFile(creatingAt: path, overwrite: true)
                try fits.appendImage(FITSImage<Float>(shape: [1], pixels: [0]))
                let sciHDU = try fits.appendImage(FITSImage(width: n, height: n, pixels: exposure.science.map(Float.init)), extname: "SCI")
                try fits.writeWCS(exposure.wcs, hdu: sciHDU)
                try fits.writeKeyword("FILTER", .string(band), comment: "band", hdu: sciHDU)
                try fits.writeKeyword("CALIB", .double(c.calibration), comment: "counts per nJy", hdu: sciHDU)
                try fits.writeKeyword("EXPNAME", .string(name), comment: "exposure name", hdu: sciHDU)
                try fits.writeKeyword("BUNIT", .string("counts"), comment: "", hdu: sciHDU)
                try fits.appendImage(FITSImage(width: n, height: n, pixels: exposure.uncertainty.map(Float.init)), extname: "UNC")
                try fits.close()
                images.append(path)
            }
        }
        let truthPath = FilePath(directory).appending("truth.fits").string
        try truth.write(truthPath)
        let initial = SceneCatalog(bands: c.bands, sources: truth.sources.map { mock.perturbed($0, rng: &rng) }, roi: truth.roi)
        try initial.write(FilePath(directory).appending("initial.fits").string)
        return Output(images: images, truth: truth, initial: initial, psfStore: psfPath)
    }
}

extension MockSceneConfiguration {
    /// The science settings of this configuration.
    public var scene: MockScene {
        MockScene(bands: bands, imageSize: imageSize, pixelScale: pixelScale, centerRA: center[0], centerDec: center[1],
                  psfSigma: psfSigma, dither: dither, rotation: rotation, skySigma: skySigma, gain: gain,
                  calibration: calibration, fluxRange: fluxRange[0]...fluxRange[1], rhalfRange: rhalfRange[0]...rhalfRange[1],
                  sersicRange: sersicRange[0]...sersicRange[1], qRange: qRange[0]...qRange[1], pointFraction: pointFraction,
                  minSeparation: minSeparation, margin: margin, perturbation: perturbation)
    }
}
