import Foundation

/// A celestial world coordinate system with the gnomonic (TAN) projection, the one used by
/// essentially all optical survey images Tessera fits.
///
/// Conventions (read these before using the numbers):
/// - **Sky coordinates** are right ascension and declination in **degrees**, in whatever frame
///   the header declares (RADESYS/EQUINOX are not interpreted; nothing is precessed).
///   `pixelToSky` returns RA in [0, 360).
/// - **Pixel coordinates in this API are 0-based**: x is the column (FITS axis 1), y the row
///   (FITS axis 2), and the *centre* of the first pixel is (0, 0). This matches
///   `FITSImage[x, y]` and astropy's `wcs_pix2world(x, y, 0)`. The FITS header keywords CRPIX1/2
///   are 1-based, as the FITS standard defines them; the stored `crpix1`/`crpix2` keep that
///   convention and the conversion happens inside.
/// - The linear part is the CD matrix in degrees per pixel: for 1-based offsets
///   p = (x + 1 − CRPIX1, y + 1 − CRPIX2), the intermediate world coordinates in degrees are
///   (X, Y) = CD · p, and (X, Y) are gnomonic standard coordinates about (CRVAL1, CRVAL2) with
///   LONPOLE = 180° (Calabretta & Greisen 2002, A&A 395, 1077).
///
/// Not representable: other projections, SIP or PV distortions, LONPOLE ≠ 180, and a reference
/// point at a celestial pole (refused with a `WCSError` naming the keyword). Reading and writing
/// FITS headers lives in TesseraFITS (`WCS(header:)`, `write(into:)`); this type is pure math.
public struct WCS: Sendable, Equatable {
    /// CRVAL1: right ascension of the reference point (deg).
    public let crval1: Double
    /// CRVAL2: declination of the reference point (deg), strictly between −90 and 90.
    public let crval2: Double
    /// CRPIX1: x of the reference point, FITS 1-based (0-based x = crpix1 − 1).
    public let crpix1: Double
    /// CRPIX2: y of the reference point, FITS 1-based (0-based y = crpix2 − 1).
    public let crpix2: Double
    /// CD matrix (deg per pixel): X = cd11·p1 + cd12·p2, Y = cd21·p1 + cd22·p2.
    public let cd11: Double
    public let cd12: Double
    public let cd21: Double
    public let cd22: Double

    // Cached: inverse CD (pixels per degree) and trigonometry of the reference point.
    private let inv11: Double
    private let inv12: Double
    private let inv21: Double
    private let inv22: Double
    private let sinDec0: Double
    private let cosDec0: Double

    /// A TAN WCS from explicit values.
    ///
    /// - Parameters:
    ///   - crval1, crval2: RA and Dec of the reference point (deg).
    ///   - crpix1, crpix2: reference pixel in the FITS **1-based** convention (as in headers).
    ///   - cd11, cd12, cd21, cd22: CD matrix (deg per pixel).
    /// - Throws: `WCSError` if a value is not finite (keyword nil), |crval2| ≥ 90 (keyword
    ///   CRVAL2), or the CD matrix is singular (keyword CD1_1).
    public init(crval1: Double, crval2: Double, crpix1: Double, crpix2: Double,
                cd11: Double, cd12: Double, cd21: Double, cd22: Double) throws {
        let values = [crval1, crval2, crpix1, crpix2, cd11, cd12, cd21, cd22]
        guard values.allSatisfy(\.isFinite) else {
            throw WCSError(keyword: nil, detail: "WCS values must be finite: \(values)")
        }
        guard abs(crval2) < 90 else {
            throw WCSError(keyword: "CRVAL2",
                           detail: "reference point at a celestial pole (CRVAL2 = \(crval2)) is not supported")
        }
        let det = cd11 * cd22 - cd12 * cd21
        guard det != 0, det.isFinite else {
            throw WCSError(keyword: "CD1_1",
                           detail: "the CD matrix is singular: [[\(cd11), \(cd12)], [\(cd21), \(cd22)]]")
        }
        self.crval1 = crval1
        self.crval2 = crval2
        self.crpix1 = crpix1
        self.crpix2 = crpix2
        self.cd11 = cd11
        self.cd12 = cd12
        self.cd21 = cd21
        self.cd22 = cd22
        inv11 = cd22 / det
        inv12 = -cd12 / det
        inv21 = -cd21 / det
        inv22 = cd11 / det
        let dec0 = crval2 * Self.radiansPerDegree
        sinDec0 = sin(dec0)
        cosDec0 = cos(dec0)
    }

    /// Reference pixel in this API's 0-based convention.
    public var referencePixel: (x: Double, y: Double) { (crpix1 - 1, crpix2 - 1) }

    /// Geometric-mean pixel scale at the reference point, arcsec per pixel (sqrt |det CD|).
    public var pixelScale: Double { (abs(cd11 * cd22 - cd12 * cd21)).squareRoot() * 3600 }

    // MARK: Transformations

    /// Sky position (deg) of the 0-based pixel position (x, y). RA is wrapped into [0, 360).
    public func pixelToSky(x: Double, y: Double) -> (ra: Double, dec: Double) {
        let p1 = x + 1 - crpix1
        let p2 = y + 1 - crpix2
        let xi = (cd11 * p1 + cd12 * p2) * Self.radiansPerDegree
        let eta = (cd21 * p1 + cd22 * p2) * Self.radiansPerDegree
        let denominator = cosDec0 - eta * sinDec0
        let deltaRA = atan2(xi, denominator)
        let dec = atan2(eta * cosDec0 + sinDec0, (xi * xi + denominator * denominator).squareRoot())
        return (Self.wrapDegrees(crval1 + deltaRA / Self.radiansPerDegree), dec / Self.radiansPerDegree)
    }

    /// True if (ra, dec) [deg] falls on an image of `width` × `height` pixels: pixel centres sit
    /// at 0-based integers, so the image spans −0.5 … width − 0.5 in x (likewise in y).
    public func imageContains(ra: Double, dec: Double, width: Int, height: Int) -> Bool {
        let p = skyToPixel(ra: ra, dec: dec)
        return p.x >= -0.5 && p.y >= -0.5 && p.x <= Double(width) - 0.5 && p.y <= Double(height) - 0.5
    }

    /// 0-based pixel position of the sky position (ra, dec) in degrees (any RA, no wrapping
    /// needed). Returns NaN for both coordinates if the position is 90° or more from the
    /// reference point, where the gnomonic projection does not exist.
    public func skyToPixel(ra: Double, dec: Double) -> (x: Double, y: Double) {
        guard let (xi, eta) = standardCoordinates(ra: ra, dec: dec) else { return (.nan, .nan) }
        let bigX = xi / Self.radiansPerDegree
        let bigY = eta / Self.radiansPerDegree
        let p1 = inv11 * bigX + inv12 * bigY
        let p2 = inv21 * bigX + inv22 * bigY
        return (p1 + crpix1 - 1, p2 + crpix2 - 1)
    }

    /// Local Jacobian d(x, y)/d(ξ, η) at sky position (ra, dec), in **pixels per arcsecond**.
    ///
    /// ξ = ΔRA·cos(Dec) and η = ΔDec are small offsets on the sky, in arcseconds, measured at
    /// (ra, dec) itself (east and north). Use it to map a source's on-sky shape or offset into
    /// pixel space: Δpixel ≈ J · (ξ, η). Computed analytically from the TAN projection (exact
    /// derivative, no finite differences). Returns NaN entries where `skyToPixel` is undefined.
    public func pixelJacobian(ra: Double, dec: Double) -> PixelJacobian {
        let delta = (ra - crval1) * Self.radiansPerDegree
        let decR = dec * Self.radiansPerDegree
        let sinDec = sin(decR), cosDec = cos(decR)
        let sinD = sin(delta), cosD = cos(delta)
        let cosC = sinDec0 * sinDec + cosDec0 * cosDec * cosD
        guard cosC > 0 else { return PixelJacobian(dxdXi: .nan, dxdEta: .nan, dydXi: .nan, dydEta: .nan) }
        let d2 = cosC * cosC
        // Derivatives of the standard coordinates (ξs, ηs) [rad] with respect to
        // (ΔRA·cos Dec, Dec) [rad]; see the derivation in the doc of `standardCoordinates`.
        let m11 = (cosDec0 * cosDec + sinDec0 * sinDec * cosD) / d2
        let m12 = -sinDec0 * sinD / d2
        let m21 = sinDec * sinD / d2
        let m22 = cosD / d2
        // Standard coordinates in deg per sky arcsec equal these in rad per rad divided by 3600;
        // then CD⁻¹ takes degrees to pixels.
        let s = 1.0 / 3600.0
        return PixelJacobian(dxdXi: (inv11 * m11 + inv12 * m21) * s,
                             dxdEta: (inv11 * m12 + inv12 * m22) * s,
                             dydXi: (inv21 * m11 + inv22 * m21) * s,
                             dydEta: (inv21 * m12 + inv22 * m22) * s)
    }

    /// Gnomonic standard coordinates (ξs, ηs) in radians of (ra, dec) about the reference point,
    /// nil if the point is on or behind the projection's horizon.
    ///
    /// With Δ = α − α0 and cos c = sin δ0 sin δ + cos δ0 cos δ cos Δ:
    /// ξs = cos δ sin Δ / cos c, ηs = (cos δ0 sin δ − sin δ0 cos δ cos Δ) / cos c. Differentiating,
    /// ∂ξs/∂α = cos δ (cos δ0 cos δ + sin δ0 sin δ cos Δ)/cos²c, ∂ξs/∂δ = −sin δ0 sin Δ/cos²c,
    /// ∂ηs/∂α = sin δ cos δ sin Δ/cos²c, ∂ηs/∂δ = cos Δ/cos²c; dividing the α column by cos δ
    /// gives the derivatives with respect to ΔRA·cos δ used by `pixelJacobian`.
    private func standardCoordinates(ra: Double, dec: Double) -> (Double, Double)? {
        let delta = (ra - crval1) * Self.radiansPerDegree
        let decR = dec * Self.radiansPerDegree
        let sinDec = sin(decR), cosDec = cos(decR)
        let cosD = cos(delta)
        let cosC = sinDec0 * sinDec + cosDec0 * cosDec * cosD
        guard cosC > 0 else { return nil }
        let xi = cosDec * sin(delta) / cosC
        let eta = (cosDec0 * sinDec - sinDec0 * cosDec * cosD) / cosC
        return (xi, eta)
    }

    static let radiansPerDegree = Double.pi / 180

    /// `degrees` reduced into [0, 360).
    static func wrapDegrees(_ degrees: Double) -> Double {
        var r = degrees.truncatingRemainder(dividingBy: 360)
        if r < 0 { r += 360 }
        if r >= 360 { r -= 360 }
        return r
    }
}

/// The 2×2 matrix d(x, y)/d(ξ, η) returned by `WCS.pixelJacobian`, in pixels per arcsecond.
/// Row = pixel axis (x, y), column = sky offset (ξ = ΔRA·cos Dec east, η = ΔDec north).
public struct PixelJacobian: Sendable, Equatable {
    public var dxdXi: Double
    public var dxdEta: Double
    public var dydXi: Double
    public var dydEta: Double

    public init(dxdXi: Double, dxdEta: Double, dydXi: Double, dydEta: Double) {
        self.dxdXi = dxdXi
        self.dxdEta = dxdEta
        self.dydXi = dydXi
        self.dydEta = dydEta
    }

    /// Element (row, column), both 0-based: [0, 0] = dx/dξ, [0, 1] = dx/dη, [1, 0] = dy/dξ, [1, 1] = dy/dη.
    public subscript(row: Int, column: Int) -> Double {
        precondition((0...1).contains(row) && (0...1).contains(column), "PixelJacobian: index out of 0...1")
        switch (row, column) {
        case (0, 0): return dxdXi
        case (0, 1): return dxdEta
        case (1, 0): return dydXi
        default: return dydEta
        }
    }

    /// Determinant: pixels per square arcsecond (negative when the image is mirrored,
    /// i.e. east is to the left with north up, the usual case for sky images).
    public var determinant: Double { dxdXi * dydEta - dxdEta * dydXi }
}
