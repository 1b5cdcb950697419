import Foundation
import SceneModel
import TesseraFITS

/// A patch ready to fit: the kernel over its pixels (fixed sources already subtracted), the
/// active sources in patch coordinates and their catalog anchors.
public struct BuiltPatch: Sendable {
    public var kernel: SceneKernel
    public var plane: TangentPlane
    public var start: [PatchSource]
    /// Catalog positions of the active sources in this patch's plane (centres of the position bounds).
    public var anchors: [(xi: Double, eta: Double)]
    /// Exposures that contributed pixels.
    public var exposureNames: [String]
    public var pixelCount: Int
}

/// Builds patches from the pixel store and PSF store: for every exposure in the fitted bands, the
/// unmasked pixels within each active source's region of interest, with the exposure's WCS
/// linearised at every active and fixed source, and the fixed sources' model subtracted.
public struct PatchBuilder {
    public let store: PixelStore
    public let psfs: PSFStore
    public let bands: [String]
    public let sersic: SersicMixture
    /// Region-of-interest radius (arcsec) for sources without their own `roi`.
    public let defaultROI: Double
    let wcs: [String: WCS]

    public init(store: PixelStore, psfs: PSFStore, bands: [String], sersic: SersicMixture, defaultROI: Double) throws {
        self.store = store; self.psfs = psfs; self.bands = bands; self.sersic = sersic; self.defaultROI = defaultROI
        var w: [String: WCS] = [:]
        for e in store.exposures { w[e.name] = try e.wcs }
        wcs = w
        // Every exposure of a fitted band needs a PSF: fail now, naming the band, not mid-run.
        for e in store.exposures where bands.contains(e.band) {
            _ = try psfs.psf(band: e.psfBand, exposure: e.name)
        }
        for b in bands where !store.exposures.contains(where: { $0.band == b }) {
            throw SceneInputError(file: store.path, field: b, message: "the pixel store has no exposure in band '\(b)'")
        }
    }

    /// True if the source's position falls on at least one exposure of a fitted band.
    public func covers(_ s: Source) -> Bool {
        store.exposures.contains { e in
            guard bands.contains(e.band), let w = wcs[e.name] else { return false }
            let p = w.skyToPixel(ra: s.ra, dec: s.dec)
            return p.x >= -0.5 && p.y >= -0.5 && p.x <= Double(e.width) - 0.5 && p.y <= Double(e.height) - 0.5
        }
    }

    func astrometry(_ s: Source, wcs w: WCS, plane: TangentPlane) -> LocalAstrometry {
        Self.localAstrometry(s, wcs: w, plane: plane)
    }

    /// Model counts of `sources` on every pixel of a `width` × `height` exposure (row-major by
    /// y), each source linearised through the exposure's WCS at its own position: what
    /// `mock-scene` renders and `postprocess` subtracts.
    public static func renderExposure(_ sources: [Source], bands: [String], band: Int, wcs: WCS, width: Int, height: Int,
                                      psf: PSFMixture, calibration: Double, sersic: SersicMixture) throws -> [Double] {
        let plane = TangentPlane(ra0: wcs.crval1, dec0: wcs.crval2)
        let n = width * height
        let exposure = PatchExposure(name: "render", band: band, x: (0..<n).map { Double($0 % width) }, y: (0..<n).map { Double($0 / width) },
                                     data: [Double](repeating: 0, count: n), inverseError: [Double](repeating: 1, count: n),
                                     psf: psf, calibration: calibration,
                                     astrometry: sources.map { localAstrometry($0, wcs: wcs, plane: plane) })
        let kernel = try SceneKernel(patch: Patch(bands: bands, plane: plane, exposures: [exposure]), sersic: sersic,
                                     isPoint: sources.map(\.isPoint))
        return kernel.modelImages(kernel.parameters(of: sources.map { PatchSource($0, plane: plane) }))[0]
    }

    /// The exposure's TAN WCS linearised at the source's position.
    public static func localAstrometry(_ s: Source, wcs w: WCS, plane: TangentPlane) -> LocalAstrometry {
        let p = w.skyToPixel(ra: s.ra, dec: s.dec)
        let o = plane.offsets(ra: s.ra, dec: s.dec)
        let j = w.pixelJacobian(ra: s.ra, dec: s.dec)
        return LocalAstrometry(x0: p.x, y0: p.y, xi0: o.xi, eta0: o.eta,
                               dxdXi: j.dxdXi, dxdEta: j.dxdEta, dydXi: j.dydXi, dydEta: j.dydEta)
    }

    public func build(active: [Source], roi: [Double?], fixed: [Source], anchors: [Source]) throws -> BuiltPatch {
        guard !active.isEmpty else { throw SceneInputError(file: store.path, field: nil, message: "a patch needs at least one active source") }
        let ra0 = active.map(\.ra).reduce(0, +) / Double(active.count)
        let dec0 = active.map(\.dec).reduce(0, +) / Double(active.count)
        let plane = TangentPlane(ra0: ra0, dec0: dec0)
        var exposures: [PatchExposure] = []
        var fixedAstrometry: [[LocalAstrometry]] = []
        for e in store.exposures {
            guard let b = bands.firstIndex(of: e.band), let w = wcs[e.name] else { continue }
            let scale = w.pixelScale
            let centres = active.map { w.skyToPixel(ra: $0.ra, dec: $0.dec) }
            let radii = active.indices.map { (roi[$0] ?? defaultROI) / scale }
            var x0 = Int.max, x1 = Int.min, y0 = Int.max, y1 = Int.min
            for (c, r) in zip(centres, radii) {
                x0 = min(x0, Int((c.x - r).rounded(.down))); x1 = max(x1, Int((c.x + r).rounded(.up)))
                y0 = min(y0, Int((c.y - r).rounded(.down))); y1 = max(y1, Int((c.y + r).rounded(.up)))
            }
            x0 = max(x0, 0); y0 = max(y0, 0); x1 = min(x1, e.width - 1); y1 = min(y1, e.height - 1)
            guard x1 >= x0, y1 >= y0 else { continue }
            let (data, ierr) = try store.read(exposure: e.name, x0: x0, y0: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
            var xs: [Double] = [], ys: [Double] = [], ds: [Double] = [], ws: [Double] = []
            let width = x1 - x0 + 1
            for y in y0...y1 {
                for x in x0...x1 {
                    let i = (y - y0) * width + (x - x0)
                    guard ierr[i] > 0 else { continue }
                    let inside = zip(centres, radii).contains { c, r in
                        let dx = Double(x) - c.x, dy = Double(y) - c.y
                        return dx * dx + dy * dy <= r * r
                    }
                    if inside { xs.append(Double(x)); ys.append(Double(y)); ds.append(Double(data[i])); ws.append(Double(ierr[i])) }
                }
            }
            guard !xs.isEmpty else { continue }
            exposures.append(PatchExposure(name: e.name, band: b, x: xs, y: ys, data: ds, inverseError: ws,
                                           psf: try psfs.psf(band: e.psfBand, exposure: e.name), calibration: e.calibration,
                                           astrometry: active.map { astrometry($0, wcs: w, plane: plane) }))
            fixedAstrometry.append(fixed.map { astrometry($0, wcs: w, plane: plane) })
        }
        guard !exposures.isEmpty else {
            throw SceneInputError(file: store.path, field: nil,
                                  message: "no usable pixels for sources \(active.map { String($0.id) }.joined(separator: ", ")) (outside every image, or all masked)")
        }
        var patch = Patch(bands: bands, plane: plane, exposures: exposures)
        if !fixed.isEmpty {
            patch = try patch.subtracting(fixed.map { PatchSource($0, plane: plane) }, astrometry: fixedAstrometry, sersic: sersic)
        }
        let kernel = try SceneKernel(patch: patch, sersic: sersic, isPoint: active.map(\.isPoint))
        return BuiltPatch(kernel: kernel, plane: plane, start: active.map { PatchSource($0, plane: plane) },
                          anchors: anchors.map { plane.offsets(ra: $0.ra, dec: $0.dec) },
                          exposureNames: exposures.map(\.name), pixelCount: patch.pixelCount)
    }
}
