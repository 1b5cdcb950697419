import ArgumentParser
import Foundation
import SceneModel
import SceneRuns

extension Tessera {
    struct FitPSF: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fit-psf",
            abstract: "Fit a Gaussian mixture to a pixelised PSF image (FITS) and add it to a PSF store (HDF5).",
            discussion: """
            The image must be sampled on the exposure's pixel grid. The fit is EM on the pixel \
            values; the stored covariances are intrinsic (the pixel response, I/12 pixels², is \
            removed, as the renderer adds it back). An existing store keeps its other bands and \
            exposures; the given band (or band/exposure) is replaced.
            """)

        @Option(help: "PSF image (FITS).") var image: String
        @Option(help: "HDU holding the image, 0-based (default: the primary array).") var hdu: Int?
        @Option(help: "Band name, e.g. F200W.") var band: String
        @Option(help: "Exposure name: store the PSF for this exposure only (it overrides the band's).") var exposure: String?
        @Option(help: "Number of Gaussian components.") var components: Int
        @Option(name: .customLong("centre-x"), help: "PSF centre x (pixels, 0-based); default: flux-weighted centroid.") var centreX: Double?
        @Option(name: .customLong("centre-y"), help: "PSF centre y (pixels, 0-based); default: flux-weighted centroid.") var centreY: Double?
        @Option(name: .customLong("max-iterations"), help: "Maximum EM iterations.") var maxIterations = 2000
        @Flag(help: "Refine the EM fit by least squares on all pixels (noisy images, non-Gaussian profiles).") var refine = false
        @Option(help: "PSF store (HDF5) to create or update.") var store: String

        func run() throws {
            try failing {
                guard (centreX == nil) == (centreY == nil) else {
                    throw ValidationError("give both --centre-x and --centre-y, or neither")
                }
                var options = PSFFitOptions(components: components, maxIterations: maxIterations, refine: refine)
                if let centreX, let centreY { options.centre = (centreX, centreY) }
                let s = try PSFFitRunner.run(imagePath: image, hdu: hdu, band: band, exposure: exposure,
                                             options: options, storePath: store)
                let f = s.fit
                print("# \(band)\(exposure.map { "/\($0)" } ?? ""): \(f.mixture.components.count) components, "
                      + "centre (\(f.centreX), \(f.centreY)), residual fraction \(f.residualFraction), "
                      + "\(f.iterations) EM iterations\(f.converged ? "" : " (not converged)")"
                      + (refine ? ", \(f.refineIterations) least-squares steps" : ""))
                let beyond = zip(f.missingFluxRadii, f.missingFluxBeyond).map { String(format: "r > %g px: %+.4f", $0, $1) }
                print(String(format: "# flux the mixture misses (fraction of the image's flux; + = missing wing light): %+.4f; ", f.missingFluxFraction)
                      + beyond.joined(separator: ", "))
                if f.clampedComponents > 0 {
                    print("# warning: \(f.clampedComponents) component(s) narrower than the pixel response; variance floored")
                }
                print("# amplitude x y cxx cxy cyy (pixels)")
                for c in f.mixture.components { print("\(c.amplitude) \(c.x) \(c.y) \(c.cxx) \(c.cxy) \(c.cyy)") }
                print("# store \(store): bands \(s.storeBands.joined(separator: ", "))")
            }
        }
    }
}
