import Astrometry
import Foundation
import ImageStores
import SceneFitting
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
/// pixels `PatchPixels` selects (unmasked, within an active source's region of interest), with
/// the exposure's WCS linearised at every active and fixed source (`WCS.local`), and the fixed
/// sources' model subtracted. The science is in SceneModel; this type only wires it to the stores.
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
            return w.imageContains(ra: s.ra, dec: s.dec, width: e.width, height: e.height)
        }
    }

    public func build(active: [Source], roi: [Double?], fixed: [Source], anchors: [Source]) throws -> BuiltPatch {
        guard !active.isEmpty else { throw SceneInputError(file: store.path, field: nil, message: "a patch needs at least one active source") }
        let ra0 = active.map(\.ra).reduce(0, +) / Double(active.count)
        let dec0 = active.map(\.dec).reduce(0, +) / Double(active.count)
        let plane = TangentPlane(ra0: ra0, dec0: dec0)
        var exposures: [PatchExposure] = []
        var fixedAstrometry: [[LocalAstrometry]] = []
        let positions = active.map { (ra: $0.ra, dec: $0.dec) }
        for e in store.exposures {
            guard let b = bands.firstIndex(of: e.band), let w = wcs[e.name] else { continue }
            guard let pixels = PatchPixels(wcs: w, width: e.width, height: e.height, positions: positions,
                                           roi: active.indices.map { roi[$0] ?? defaultROI }) else { continue }
            let (data, ierr) = try store.read(exposure: e.name, x0: pixels.x0, y0: pixels.y0, width: pixels.width, height: pixels.height)
            let (xs, ys, ds, ws) = pixels.select(data: data, inverseError: ierr)
            guard !xs.isEmpty else { continue }
            exposures.append(PatchExposure(name: e.name, band: b, x: xs, y: ys, data: ds, inverseError: ws,
                                           psf: try psfs.psf(band: e.psfBand, exposure: e.name), calibration: e.calibration,
                                           astrometry: active.map { w.local(ra: $0.ra, dec: $0.dec, plane: plane) }))
            fixedAstrometry.append(fixed.map { w.local(ra: $0.ra, dec: $0.dec, plane: plane) })
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

    /// Per fitted band, what `NoiseLightReach` needs: the per-pixel noise in catalog flux units
    /// (median over the band's exposures of each one's median 1/ierr over unmasked pixels, divided
    /// by its calibration, then by √N_exposures: the band's combined noise), the pixel area and the
    /// PSF components' circularised variances in arcsec² (of the band's first exposure). Reads every
    /// exposure of the fitted bands once.
    public func noiseReachBands() throws -> [NoiseLightReach.Band] {
        try bands.map { band in
            let exposures = store.exposures.filter { $0.band == band }
            guard let first = exposures.first else {
                throw SceneInputError(file: store.path, field: band, message: "the pixel store has no exposure in band '\(band)'")
            }
            let noises = try exposures.map { e -> Double in
                let sigma = try store.readAll(exposure: e).ierr.filter { $0 > 0 && $0.isFinite }.map { 1 / Double($0) }.sorted()
                guard !sigma.isEmpty else { throw SceneInputError(file: store.path, field: e.name, message: "exposure has no unmasked pixel (all ierr 0)") }
                return sigma[sigma.count / 2] / e.calibration
            }.sorted()
            let scale2 = abs(first.cd11 * first.cd22 - first.cd12 * first.cd21) * 3600 * 3600  // arcsec² per pixel
            let psf = try psfs.psf(band: first.psfBand, exposure: first.name).components.map {
                (amplitude: $0.amplitude, variance: 0.5 * ($0.cxx + $0.cyy) * scale2)
            }
            return NoiseLightReach.Band(noise: noises[noises.count / 2] / Double(exposures.count).squareRoot(), pixelArea: scale2, psf: psf)
        }
    }
}
