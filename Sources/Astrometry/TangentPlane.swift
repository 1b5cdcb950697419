import Foundation

/// The gnomonic tangent plane about a reference sky point: converts (RA, Dec) in degrees to
/// offsets (ξ east, η north) in **arcseconds** and back. Exact (not a small-angle approximation).
///
/// Why a separate type from `WCS`: a scene patch measures every source's position in one plane
/// about the patch centre, independent of any exposure's pixel grid, so the sampler works in
/// arcsec on every exposure alike.
public struct TangentPlane: Sendable, Codable, Equatable {
    /// Reference point (deg).
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
