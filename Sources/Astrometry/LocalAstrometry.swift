/// An exposure's WCS linearised at one point (GalSim's `wcs.local()`, with the tangent plane of a
/// patch as the world frame): pixel position p = p0 + J · ((ξ, η) − (ξ0, η0)), with
/// J = d(x, y)/d(ξ, η) in **pixels per arcsec** taken from the exposure's TAN WCS at the point.
///
/// J is the derivative with respect to local offsets east and north of the point itself
/// (`WCS.pixelJacobian`), not with respect to the plane's (ξ, η): the two frames are rotated by
/// the meridian convergence, about θ·tan(Dec) for a point θ from the plane's reference. Exact at
/// the reference; a source θ = 1′ from it at Dec −28° that moves 0.5″ lands ≈ 6e-4 pixel (0.1″
/// pixels) from where the full projection puts it (AstrometryTests.affineMapWithinAPatch). The
/// kernel's gradient is exact for this affine model.
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

    /// The inverse map: tangent-plane offsets (arcsec) of the pixel position (x, y).
    public func offsets(x: Double, y: Double) -> (xi: Double, eta: Double) {
        let w = worldJacobian
        let a = x - x0, b = y - y0
        return (xi0 + w.dxiDx * a + w.dxiDy * b, eta0 + w.detaDx * a + w.detaDy * b)
    }

    /// d(ξ, η)/d(x, y) in **arcsec per pixel**, the inverse of J: GalSim's `local().jacobian()`
    /// convention (world per pixel).
    public var worldJacobian: (dxiDx: Double, dxiDy: Double, detaDx: Double, detaDy: Double) {
        let det = dxdXi * dydEta - dxdEta * dydXi
        return (dydEta / det, -dxdEta / det, -dydXi / det, dxdXi / det)
    }
}

extension WCS {
    /// This WCS linearised at the sky position (ra, dec) in degrees, with offsets measured in
    /// `plane`: the astrometry a patch's kernel needs for a source there.
    public func local(ra: Double, dec: Double, plane: TangentPlane) -> LocalAstrometry {
        let p = skyToPixel(ra: ra, dec: dec)
        let o = plane.offsets(ra: ra, dec: dec)
        let j = pixelJacobian(ra: ra, dec: dec)
        return LocalAstrometry(x0: p.x, y0: p.y, xi0: o.xi, eta0: o.eta,
                               dxdXi: j.dxdXi, dxdEta: j.dxdEta, dydXi: j.dydXi, dydEta: j.dydEta)
    }

    /// This WCS linearised at the 0-based pixel position (x, y), with offsets measured in `plane`
    /// (GalSim's `wcs.local(image_pos)`).
    public func local(x: Double, y: Double, plane: TangentPlane) -> LocalAstrometry {
        let sky = pixelToSky(x: x, y: y)
        return local(ra: sky.ra, dec: sky.dec, plane: plane)
    }
}
