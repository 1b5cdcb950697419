import Foundation

/// The gnomonic tangent plane about a reference sky point: converts (RA, Dec) in degrees to
/// offsets (ξ east, η north) in **arcseconds** and back. Exact (not a small-angle approximation).
public struct TangentPlane: Sendable, Codable, Equatable {
    public var ra0: Double
    public var dec0: Double

    public init(ra0: Double, dec0: Double) { self.ra0 = ra0; self.dec0 = dec0 }

    static let arcsecPerRadian = 180 / Double.pi * 3600

    /// (ξ, η) in arcsec of (ra, dec) in degrees.
    public func offsets(ra: Double, dec: Double) -> (xi: Double, eta: Double) {
        let d = (ra - ra0) * .pi / 180, de = dec * .pi / 180, d0 = dec0 * .pi / 180
        let cosC = sin(d0) * sin(de) + cos(d0) * cos(de) * cos(d)
        let xi = cos(de) * sin(d) / cosC
        let eta = (cos(d0) * sin(de) - sin(d0) * cos(de) * cos(d)) / cosC
        return (xi * Self.arcsecPerRadian, eta * Self.arcsecPerRadian)
    }

    /// (ra, dec) in degrees of tangent-plane offsets (ξ, η) in arcsec; RA in [0, 360).
    public func sky(xi: Double, eta: Double) -> (ra: Double, dec: Double) {
        let x = xi / Self.arcsecPerRadian, y = eta / Self.arcsecPerRadian
        let d0 = dec0 * .pi / 180
        let denom = cos(d0) - y * sin(d0)
        let ra = ra0 + atan2(x, denom) * 180 / .pi
        let dec = atan2(sin(d0) + y * cos(d0), (x * x + denom * denom).squareRoot()) * 180 / .pi
        var r = ra.truncatingRemainder(dividingBy: 360)
        if r < 0 { r += 360 }
        return (r, dec)
    }
}

/// An exposure's WCS linearised at one source: pixel position p = p0 + J · ((ξ, η) − (ξ0, η0)),
/// with J = d(x, y)/d(ξ, η) in **pixels per arcsec** taken from the exposure's TAN WCS at the
/// source's starting position. Within a patch a source moves by a fraction of an arcsec, where
/// the TAN projection is linear to ≪ 1e-6 pixel, and the gradient is exact for this model.
public struct LocalAstrometry: Sendable, Codable, Equatable {
    /// Pixel position (0-based) of the linearisation point.
    public var x0: Double
    public var y0: Double
    /// Tangent-plane offsets (arcsec) of the linearisation point.
    public var xi0: Double
    public var eta0: Double
    /// J = [[dx/dξ, dx/dη], [dy/dξ, dy/dη]], pixels per arcsec.
    public var dxdXi: Double
    public var dxdEta: Double
    public var dydXi: Double
    public var dydEta: Double

    public init(x0: Double, y0: Double, xi0: Double, eta0: Double,
                dxdXi: Double, dxdEta: Double, dydXi: Double, dydEta: Double) {
        self.x0 = x0; self.y0 = y0; self.xi0 = xi0; self.eta0 = eta0
        self.dxdXi = dxdXi; self.dxdEta = dxdEta; self.dydXi = dydXi; self.dydEta = dydEta
    }

    /// Pixel position of tangent-plane offsets (ξ, η) in arcsec.
    public func pixel(xi: Double, eta: Double) -> (x: Double, y: Double) {
        let a = xi - xi0, b = eta - eta0
        return (x0 + dxdXi * a + dxdEta * b, y0 + dydXi * a + dydEta * b)
    }
}

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
