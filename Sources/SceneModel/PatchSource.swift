import Astrometry

/// A source in a patch's coordinates: position as tangent-plane offsets (ξ east, η north) in
/// arcsec about the patch's reference point, fluxes in the patch's band order (catalog flux
/// units), and the shape in the conventions of `SceneModelInfo` (q = b/a, pa radians east of
/// north, Sérsic n, rhalf arcsec along the major axis). For a point source the shape fields are
/// carried but ignored.
public struct PatchSource: Sendable, Equatable {
    public var xi: Double
    public var eta: Double
    public var flux: [Double]
    public var q: Double
    public var pa: Double
    public var sersic: Double
    public var rhalf: Double
    public var isPoint: Bool

    public init(xi: Double, eta: Double, flux: [Double], q: Double = 1, pa: Double = 0,
                sersic: Double = 1, rhalf: Double = 0.1, isPoint: Bool = false) {
        self.xi = xi; self.eta = eta; self.flux = flux
        self.q = q; self.pa = pa; self.sersic = sersic; self.rhalf = rhalf; self.isPoint = isPoint
    }

    /// The catalog source at its tangent-plane offsets about `plane`.
    public init(_ source: Source, plane: TangentPlane) {
        let o = plane.offsets(ra: source.ra, dec: source.dec)
        self.init(xi: o.xi, eta: o.eta, flux: source.flux, q: source.q, pa: source.pa,
                  sersic: source.sersic, rhalf: source.rhalf, isPoint: source.isPoint)
    }

    /// Back to a catalog source with sky position (RA, Dec) in degrees.
    public func source(id: Int64, plane: TangentPlane) -> Source {
        let s = plane.sky(xi: xi, eta: eta)
        return Source(id: id, ra: s.ra, dec: s.dec, flux: flux, q: q, pa: pa, sersic: sersic,
                      rhalf: rhalf, isPoint: isPoint)
    }
}
