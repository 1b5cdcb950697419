import Astrometry
import Foundation

/// The pixels of one exposure that a patch uses, already cleaned: only pixels with finite data
/// and positive finite inverse error appear (masked, NaN and zero-weight pixels were dropped
/// when the patch was built). Data are sky-subtracted counts; once fixed sources are subtracted
/// (`Patch.subtracting`) they are the residual the active sources must explain.
public struct PatchExposure: Sendable {
    /// Exposure name (e.g. the FITS file stem), for messages and residual images.
    public var name: String
    /// Index of the exposure's band in the patch's `bands`.
    public var band: Int
    /// Pixel centres (0-based, exposure frame) of the used pixels.
    public var x: [Double]
    public var y: [Double]
    /// Counts in those pixels.
    public var data: [Double]
    /// 1/σ per pixel, 1/counts.
    public var inverseError: [Double]
    /// The exposure's PSF in its pixel frame.
    public var psf: PSFMixture
    /// Counts per catalog flux unit.
    public var calibration: Double
    /// The exposure's WCS linearised at each source the kernel renders, in the kernel's source order.
    public var astrometry: [LocalAstrometry]

    public init(name: String, band: Int, x: [Double], y: [Double], data: [Double], inverseError: [Double],
                psf: PSFMixture, calibration: Double, astrometry: [LocalAstrometry]) {
        self.name = name; self.band = band; self.x = x; self.y = y; self.data = data
        self.inverseError = inverseError; self.psf = psf; self.calibration = calibration; self.astrometry = astrometry
    }

    public var pixelCount: Int { data.count }
}

/// A patch: the pixel data of every exposure, in every band, that the active sources of one
/// sub-region touch, with a tangent plane for their positions.
public struct Patch: Sendable {
    /// Band names, in the order of a source's flux vector.
    public var bands: [String]
    /// Reference point of the tangent-plane offsets (ξ, η).
    public var plane: TangentPlane
    public var exposures: [PatchExposure]

    public init(bands: [String], plane: TangentPlane, exposures: [PatchExposure]) {
        self.bands = bands; self.plane = plane; self.exposures = exposures
    }

    public var pixelCount: Int { exposures.reduce(0) { $0 + $1.pixelCount } }
}
