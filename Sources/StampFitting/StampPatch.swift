import Astrometry
import SceneModel
import Stamps

/// One object's epochs made ready for the scene kernel: every usable pixel of its stamps, each
/// stamp an exposure with its PSF mixture and its Jacobian as local astrometry.
///
/// Conventions. Stamp pixel (row, col) is kernel pixel (x = col, y = row). A MEDS Jacobian maps
/// pixel offsets to (u, v) in arcsec with **+u west and +v north** (GalSim's world convention, in
/// which DES/ngmix MEDS files are written), so the patch's tangent-plane offsets are ξ = −u (east)
/// and η = v. The stamp's linearisation point is its Jacobian centre (row0, col0), taken to be
/// the object's catalogue position; a neighbour is placed in the stamp through its own sky
/// position and the same (affine) Jacobian.
public struct StampPatch: Sendable {
    /// The exposures (one per usable epoch stamp) in the group's tangent plane.
    public let exposures: [PatchExposure]
    /// Local astrometry of each exposure (the same for every source in that stamp).
    public let astrometry: [LocalAstrometry]

    /// - Parameters:
    ///   - epochs: the object's stamps to fit (usually its single epochs, not the coadd).
    ///   - psfs: one PSF mixture per epoch (pixels of that epoch).
    ///   - centre: the object's catalogue position (ra, dec degrees), at each Jacobian's centre.
    ///   - plane: the group's tangent plane.
    public init(epochs: [EpochStamp], psfs: [PSFMixture], centre: (ra: Double, dec: Double), plane: TangentPlane) throws {
        guard psfs.count == epochs.count else {
            throw StampFitError.input("\(epochs.count) epochs but \(psfs.count) PSFs")
        }
        let o = plane.offsets(ra: centre.ra, dec: centre.dec)
        var exposures: [PatchExposure] = []
        var astrometry: [LocalAstrometry] = []
        for (e, stamp) in epochs.enumerated() {
            let j = stamp.jacobian
            let det = j.determinant
            guard det != 0, det.isFinite else { throw StampFitError.input("epoch \(e): singular Jacobian") }
            // (Δrow, Δcol) = J⁻¹ (u, v) with u = −Δξ, v = Δη.
            let a = j.dvdcol / det, b = -j.dudcol / det, c = -j.dvdrow / det, d = j.dudrow / det
            let local = LocalAstrometry(x0: j.col0, y0: j.row0, xi0: o.xi, eta0: o.eta,
                                        dxdXi: -c, dxdEta: d, dydXi: -a, dydEta: b)
            var xs: [Double] = [], ys: [Double] = [], data: [Double] = [], ierr: [Double] = []
            for row in 0..<stamp.rows {
                for col in 0..<stamp.cols {
                    let i = row * stamp.cols + col
                    let w = Double(stamp.weight[i])
                    let v = Double(stamp.image[i])
                    guard w > 0, w.isFinite, v.isFinite, (stamp.bmask?[i] ?? 0) == 0 else { continue }
                    xs.append(Double(col)); ys.append(Double(row)); data.append(v); ierr.append(w.squareRoot())
                }
            }
            guard !xs.isEmpty else { continue }
            exposures.append(PatchExposure(name: "epoch-\(e)-file-\(stamp.fileID)", band: 0, x: xs, y: ys, data: data,
                                           inverseError: ierr, psf: psfs[e], calibration: 1, astrometry: [local]))
            astrometry.append(local)
        }
        self.exposures = exposures
        self.astrometry = astrometry
    }

    public var pixelCount: Int { exposures.reduce(0) { $0 + $1.pixelCount } }
}

/// Stamp-fitting errors: the input (stamps, PSFs) is unusable for a fit.
public enum StampFitError: Error, CustomStringConvertible, Equatable {
    case input(String)
    public var description: String {
        switch self { case let .input(m): return "stamp fit: \(m)" }
    }
}
