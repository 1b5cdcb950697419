import SceneModel
import Stamps

/// Any image input with every epoch's PSF taken from a PSF store (`tessera fit-psf` output)
/// instead of the input's own PSF cutouts: ngmixer's "PSFs from the MEDS file or from a PSF
/// store".
///
/// Each epoch's source image is named by `exposureNames[fileID]` (for a MEDS file, the file name
/// of `image_info.image_path` without its directory and FITS extension); the store's PSF for that
/// exposure of `band` is used where it has one, else the band's PSF (the store's own rule). The
/// mixture is in the exposure's pixel frame, which is the stamp's frame up to a translation, so
/// it is carried as it is (`EpochStamp.psfMixture`) and the input's PSF image is dropped.
public struct StorePSFStamps<Base: ObjectStamps>: ObjectStamps {
    public let base: Base
    public let psfs: PSFStore
    public let band: String
    /// Exposure name per `fileID`.
    public let exposureNames: [Int: String]

    /// Errors (naming the PSF store) when the store has no PSF for `band` at all, so a wrong band
    /// fails before any fit rather than object by object.
    public init(_ base: Base, psfs: PSFStore, band: String, exposureNames: [Int: String]) throws {
        guard psfs.bandNames.contains(band) else {
            throw SceneInputError(file: psfs.path, field: "band", message: "no PSF for band '\(band)' (the store has \(psfs.bandNames.joined(separator: ", ")))")
        }
        self.base = base; self.psfs = psfs; self.band = band; self.exposureNames = exposureNames
    }

    public var coaddFirst: Bool { base.coaddFirst }
    public var objectCount: Int { base.objectCount }
    public func object(_ index: Int) throws -> StampObject { try base.object(index) }

    public func epochs(ofObject index: Int) throws -> [EpochStamp] {
        try base.epochs(ofObject: index).map { stamp in
            var s = stamp
            let name = exposureNames[stamp.fileID]
            do { s.psfMixture = try psfs.psf(band: band, exposure: name) } catch {
                throw SceneInputError(file: psfs.path, field: "\(band)/\(name ?? "file_id \(stamp.fileID)")", message: "\(error)")
            }
            s.psf = nil
            return s
        }
    }

    /// The exposure name of an image path: its file name without directory and without a
    /// `.fits`, `.fits.fz`, `.fz` or `.fit` extension (how `tessera preprocess` names exposures).
    public static func exposureName(ofImagePath path: String) -> String {
        var name = String(path.split(separator: "/").last ?? Substring(path))
        for suffix in [".fits.fz", ".fits.gz", ".fits", ".fit", ".fz"] where name.hasSuffix(suffix) {
            name.removeLast(suffix.count)
            break
        }
        return name
    }
}
