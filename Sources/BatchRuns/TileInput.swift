import Foundation
import ImageStores
import MEDSIO
import Stamps
import TesseraFITS
import TesseraRun

/// A tile as the fitters see it: a MEDS file or a scene pixel store, opened as `ObjectStamps`
/// (with PSFs from a PSF store where the configuration names one), plus what `batch setup` needs
/// to group its objects.
///
/// A path ending in `.h5` or `.hdf5` is a pixel store (`tessera preprocess` output); anything
/// else is read as a MEDS file.
public struct TileInput {
    public let path: String
    public let stamps: any ObjectStamps
    /// Catalogue numbers of the objects (MEDS `number`; row + 1 for a pixel store).
    public let numbers: [Int64]
    /// Stamp footprints in one frame per group of comparable objects, for `neighbours`.
    let medsFile: MEDSFile?
    let storeStamps: PixelStoreStamps?

    public static func isPixelStore(_ path: String) -> Bool { path.hasSuffix(".h5") || path.hasSuffix(".hdf5") }

    /// Opens the tile at `path` (absolute) with the `input` section's settings, checking what it
    /// can before any fit: the MEDS layout (`MEDSFile`), the pixel store, catalogue, band and PSFs.
    public init(path: String, input: BatchInputConfiguration) throws {
        self.path = path
        let psfs = input.psfStore.isEmpty ? nil : try PSFStore(contentsOf: URL(fileURLWithPath: RunPaths.absolute(input.psfStore)))
        if Self.isPixelStore(path) {
            guard let psfs else {
                throw BatchError(file: path, detail: "a pixel-store tile needs input.psf_store (the PSF store of `tessera fit-psf`)")
            }
            guard !input.catalog.isEmpty else {
                throw BatchError(file: path, detail: "a pixel-store tile needs input.catalog (the sources to cut stamps around)")
            }
            let store = try PixelStore(path: path)
            let sources = try Self.readSources(RunPaths.absolute(input.catalog))
            let stamps = try PixelStoreStamps(store: store, psfs: psfs, band: input.band, sources: sources, boxSize: input.boxSize)
            self.stamps = stamps
            storeStamps = stamps
            medsFile = nil
            numbers = sources.indices.map { Int64($0 + 1) }
        } else {
            let file = try MEDSFile(path: path)
            medsFile = file
            storeStamps = nil
            numbers = file.numbers
            if let psfs {
                let paths = file.imageInfo.first { $0.name.lowercased() == "image_path" }
                guard case let .string(names)? = paths?.data else {
                    throw MEDSError(path: path, hdu: "image_info", detail: "PSFs from a PSF store need the image_path column to name each epoch's exposure")
                }
                var exposures: [Int: String] = [:]
                for (i, p) in names.enumerated() { exposures[i] = StorePSFStamps<MEDSFile>.exposureName(ofImagePath: p) }
                stamps = try StorePSFStamps(file, psfs: psfs, band: input.band, exposureNames: exposures)
            } else {
                stamps = file
            }
        }
    }

    /// Neighbour lists: MEDS files by their coadd stamps or segmentation maps (`MEDSGroups`);
    /// pixel stores by their stamp boxes placed on the band's first exposure.
    public func neighbours(method: MEDSGroups.Method, buffer: Int) throws -> NeighbourList {
        if let medsFile { return try MEDSGroups.neighbours(of: medsFile, method: method, buffer: buffer) }
        guard method == .stamps, let storeStamps else {
            throw BatchError(file: path, detail: "a pixel store has no segmentation maps; neighbours come from overlapping stamps")
        }
        return NeighbourList.overlappingBoxes(storeStamps.stampBoxes(), buffer: buffer)
    }

    public func close() throws { try medsFile?.close() }

    /// The sources of a FITS catalogue: columns `id` (integer), `ra` and `dec` (degrees) of the
    /// first table HDU. Errors name the file and the column.
    static func readSources(_ path: String) throws -> [PixelStoreStamps.Source] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BatchError(file: path, detail: "input.catalog does not exist")
        }
        let fits = try FITSFile(path: path)
        defer { try? fits.close() }
        guard try fits.hduCount() >= 2 else { throw BatchError(file: path, detail: "no table HDU (expected columns id, ra, dec)") }
        let ids = try fits.readIntegerColumn("id", hdu: 1).values
        let ra = try fits.readRealColumn("ra", hdu: 1).values
        let dec = try fits.readRealColumn("dec", hdu: 1).values
        guard !ids.isEmpty else { throw BatchError(file: path, detail: "the catalogue has no rows") }
        for (name, column) in [("ra", ra), ("dec", dec)] {
            if let bad = column.firstIndex(where: { !$0.isFinite }) {
                throw BatchError(file: path, detail: "column \(name), row \(bad) (id \(ids[bad])): not a finite number")
            }
        }
        return ids.indices.map { PixelStoreStamps.Source(id: ids[$0], ra: ra[$0], dec: dec[$0]) }
    }
}
