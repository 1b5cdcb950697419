import Astrometry
import Foundation
import SceneModel
import Stamps

/// Catalogue sources cut from a scene pixel store as postage stamps: the `ObjectStamps` view of
/// `tessera preprocess` output, so the stamp fitters (max-likelihood, MOF, NUTS) and the batch
/// runner take a pixel store exactly as they take a MEDS file (ngmixer's ImageIO idea).
///
/// For each source and each exposure of the chosen band whose image holds the source, a square
/// box of `boxSize` pixels is centred on the source's pixel position (rounded to the nearest
/// pixel). Conventions are MEDS's, so nothing downstream knows where the stamps came from:
/// - stamp pixel (row, col) is exposure pixel (y, x) = (rowStart + row, colStart + col), 0-based;
/// - the Jacobian is the exposure's TAN WCS linearised at the source (`WCS.local`), written as
///   (u, v) in arcsec with **+u west, +v north** (u = −ξ, v = η), centred on the source's exact,
///   fractional pixel position;
/// - pixels are in catalogue flux units per pixel (the stored counts divided by the exposure's
///   `calibration`), weights the matching inverse variances (ierr·calibration)²; dropped pixels
///   and the part of a box that falls off the image have weight 0;
/// - the PSF is the PSF store's mixture for the exposure (`psf_band`, exposure name, else the
///   band's), carried as `EpochStamp.psfMixture`: already in the exposure's pixel frame, so the
///   stamp's frame too (a translation does not change a PSF);
/// - there is no coadd: every epoch is a single exposure (`coaddFirst` is false), and `fileID`
///   is the exposure's index in the store.
public struct PixelStoreStamps: ObjectStamps {
    /// A catalogue source: identity and position (degrees).
    public struct Source: Sendable, Equatable {
        public var id: Int64
        public var ra: Double
        public var dec: Double
        public init(id: Int64, ra: Double, dec: Double) { self.id = id; self.ra = ra; self.dec = dec }
    }

    public let store: PixelStore
    public let sources: [Source]
    public let band: String
    public let boxSize: Int
    /// The band's exposures, in store order, with their PSFs.
    let exposures: [(index: Int, info: ExposureInfo, wcs: WCS, psf: PSFMixture)]
    /// Per source, the exposures (positions in `exposures`) whose image holds it.
    let holding: [[Int]]

    public var coaddFirst: Bool { false }
    public var objectCount: Int { sources.count }

    /// - Parameters:
    ///   - band: the band fitted (the stamp fitters fit one flux); every exposure of it is an epoch.
    ///   - boxSize: stamp side in pixels (≥ 4).
    /// Errors name the store or PSF store and the field: a band the store lacks, an exposure
    /// without a PSF, a source with a non-finite position.
    public init(store: PixelStore, psfs: PSFStore, band: String, sources: [Source], boxSize: Int) throws {
        guard boxSize >= 4 else {
            throw SceneInputError(file: store.path, field: "box_size", message: "stamps need at least 4 pixels a side, not \(boxSize)")
        }
        let chosen = store.exposures.enumerated().filter { $0.element.band == band }
        guard !chosen.isEmpty else {
            let bands = Set(store.exposures.map(\.band)).sorted().joined(separator: ", ")
            throw SceneInputError(file: store.path, field: "band", message: "no exposure of band '\(band)' (the store has \(bands))")
        }
        exposures = try chosen.map { i, info in
            let mixture: PSFMixture
            do { mixture = try psfs.psf(band: info.psfBand, exposure: info.name) } catch {
                throw SceneInputError(file: psfs.path, field: "\(info.psfBand)/\(info.name)", message: "no PSF for exposure \(info.name): \(error)")
            }
            let wcs: WCS
            do { wcs = try info.wcs } catch {
                throw SceneInputError(file: store.path, field: "/exposures/\(info.name)", message: "unusable WCS: \(error)")
            }
            return (i, info, wcs, mixture)
        }
        for (k, s) in sources.enumerated() where !(s.ra.isFinite && s.dec.isFinite) {
            throw SceneInputError(file: store.path, field: "ra/dec", message: "source \(k) (id \(s.id)) has a non-finite position")
        }
        self.store = store
        self.sources = sources
        self.band = band
        self.boxSize = boxSize
        let exposures = self.exposures
        holding = sources.map { s in
            exposures.indices.filter { exposures[$0].wcs.imageContains(ra: s.ra, dec: s.dec, width: exposures[$0].info.width, height: exposures[$0].info.height) }
        }
    }

    public func object(_ index: Int) throws -> StampObject {
        guard index >= 0, index < sources.count else {
            throw SceneInputError(file: store.path, field: "object", message: "no source \(index) (the catalogue has \(sources.count))")
        }
        let s = sources[index]
        return StampObject(id: s.id, number: Int64(index + 1), ra: s.ra, dec: s.dec, boxSize: boxSize, epochCount: holding[index].count)
    }

    public func epochs(ofObject index: Int) throws -> [EpochStamp] {
        _ = try object(index)
        let s = sources[index]
        return try holding[index].map { e in
            let (storeIndex, info, wcs, psf) = exposures[e]
            let plane = TangentPlane(ra0: s.ra, dec0: s.dec)
            let local = wcs.local(ra: s.ra, dec: s.dec, plane: plane)
            let box = Self.box(x: local.x0, y: local.y0, size: boxSize)
            let (image, weight) = try cut(info, box: box)
            let w = local.worldJacobian
            let jacobian = StampJacobian(row0: local.y0 - Double(box.rowStart), col0: local.x0 - Double(box.colStart),
                                         dudrow: -w.dxiDy, dudcol: -w.dxiDx, dvdrow: w.detaDy, dvdcol: w.detaDx)
            return EpochStamp(rows: boxSize, cols: boxSize, image: image, weight: weight, jacobian: jacobian,
                              psfMixture: psf, fileID: storeIndex)
        }
    }

    /// The box of side `size` centred on pixel position (x, y), in the exposure's frame.
    static func box(x: Double, y: Double, size: Int) -> StampBox {
        StampBox(rowStart: Int(y.rounded()) - size / 2, colStart: Int(x.rounded()) - size / 2, size: size)
    }

    /// The stamp's pixels and weights; the part of the box off the image is zero with weight 0.
    func cut(_ info: ExposureInfo, box: StampBox) throws -> (image: [Float], weight: [Float]) {
        let n = box.size
        var image = [Float](repeating: 0, count: n * n), weight = [Float](repeating: 0, count: n * n)
        let x0 = max(box.colStart, 0), x1 = min(box.colStart + n, info.width)
        let y0 = max(box.rowStart, 0), y1 = min(box.rowStart + n, info.height)
        guard x1 > x0, y1 > y0 else { return (image, weight) }
        let (data, ierr) = try store.read(exposure: info.name, x0: x0, y0: y0, width: x1 - x0, height: y1 - y0)
        let cal = Float(info.calibration)
        for y in y0..<y1 {
            for x in x0..<x1 {
                let k = (y - y0) * (x1 - x0) + (x - x0)
                let i = (y - box.rowStart) * n + (x - box.colStart)
                let ie = ierr[k], v = data[k]
                guard ie > 0, ie.isFinite, v.isFinite else { continue }
                image[i] = v / cal
                weight[i] = (ie * cal) * (ie * cal)
            }
        }
        return (image, weight)
    }

    /// Every source's stamp footprint in one common frame, for neighbour lists: the band's first
    /// exposure's pixel grid (positions off that image are still placed through its WCS, since a
    /// TAN projection is defined beyond the image edge).
    public func stampBoxes() -> [StampBox] {
        let wcs = exposures[0].wcs
        return sources.map { s in
            let p = wcs.skyToPixel(ra: s.ra, dec: s.dec)
            return Self.box(x: p.x, y: p.y, size: boxSize)
        }
    }
}
