import Foundation
import ImageStores
import SceneModel
import TesseraFITS

/// `tessera fit-psf`: read a pixelised PSF image from FITS, fit a Gaussian mixture
/// (`PSFFitter`), and add it to (or replace it in) a PSF store.
public enum PSFFitRunner {
    public struct Summary: Sendable {
        public var fit: PSFFitResult
        public var band: String
        public var exposure: String?
        /// The store's bands after the update.
        public var storeBands: [String]
    }

    /// Reads HDU `hdu` (0-based; nil = the primary array) of `imagePath` as the PSF, fits
    /// `options.components` Gaussians, stores the mixture under `band` (and `exposure`, if given)
    /// in the store at `storePath` (created if absent; other entries kept), and returns the fit.
    /// The image must be 2-D in the exposure's pixel grid (not an oversampled PSF model).
    public static func run(imagePath: String, hdu: Int?, band: String, exposure: String?,
                           options: PSFFitOptions, storePath: String) throws -> Summary {
        let fits = try FITSFile(path: imagePath)
        let raw = try fits.readImage(Double.self, hdu: hdu)
        try fits.close()
        let shape = raw.shape
        guard shape.count == 2 || (shape.count > 2 && shape[2...].allSatisfy { $0 == 1 }) else {
            throw PSFStoreError.badImage(file: imagePath, hdu: hdu ?? 0,
                                             reason: "PSF image must be 2-D, got shape \(shape)")
        }
        let image: PSFImage
        do { image = try PSFImage(width: raw.width, height: raw.height, values: raw.pixels) } catch {
            throw PSFStoreError.badImage(file: imagePath, hdu: hdu ?? 0, reason: "\(error)")
        }
        let fit: PSFFitResult
        do { fit = try PSFFitter.fit(image, options: options) } catch {
            throw PSFStoreError.badImage(file: imagePath, hdu: hdu ?? 0, reason: "\(error)")
        }
        let url = URL(fileURLWithPath: storePath)
        var store = FileManager.default.fileExists(atPath: storePath) ? try PSFStore(contentsOf: url) : PSFStore()
        let source = hdu.map { "\(imagePath)[\($0)]" } ?? imagePath
        store.set(PSFStoreEntry(mixture: fit.mixture, sourceImage: source, fitResidual: fit.residualFraction,
                                missingFlux: fit.missingFluxFraction),
                  band: band, exposure: exposure)
        try store.write(to: url)
        return Summary(fit: fit, band: band, exposure: exposure, storeBands: store.bandNames)
    }
}
