/// Writes MEDS files in the reference layout (esheldon/meds), so that mock tiles become MEDS
/// test inputs that any MEDS reader (the python `meds` package, ngmixer) can open.
///
/// Written: `object_data` (id, number, box_size, ra, dec, ncutout; per cutout file_id, start_row,
/// orig_row, orig_col, orig_start_row, orig_start_col, cutout_row, cutout_col, dudrow, dudcol,
/// dvdrow, dvdcol, psf_row_size, psf_col_size, psf_cutout_row, psf_cutout_col, psf_start_row;
/// unused slots hold −9999 as in the reference), `image_info`, `metadata`, then the flat
/// `image_cutouts` (f4), `weight_cutouts` (f4), `seg_cutouts` (i4), `bmask_cutouts` (i4) and
/// `psf` (f4) arrays, optionally tile-compressed.
import Foundation
import Stamps
import TesseraFITS

/// Everything one MEDS file holds, in memory.
public struct MEDSContents: Sendable {
    public var objects: [StampObject]
    /// cutouts[i][c]: cutout c of object i; every cutout of object i is `boxSize × boxSize`.
    public var cutouts: [[EpochStamp]]
    /// Position of each cutout's object in its source image (`orig_row`, `orig_col`, pixels).
    public var origins: [[(row: Double, col: Double)]]
    /// Footprint of each cutout in its source image (`orig_start_row`, `orig_start_col`).
    public var footprints: [[StampBox]]
    /// One path per source image (`image_info.image_path`; `file_id` indexes this list).
    public var imagePaths: [String]
    /// Extra one-row metadata columns (the writer adds `tessera_meds_writer`).
    public var metadata: [FITSColumn]

    public init(objects: [StampObject], cutouts: [[EpochStamp]], origins: [[(row: Double, col: Double)]],
                footprints: [[StampBox]], imagePaths: [String], metadata: [FITSColumn] = []) {
        self.objects = objects; self.cutouts = cutouts; self.origins = origins; self.footprints = footprints
        self.imagePaths = imagePaths; self.metadata = metadata
    }

    /// The contents of a mock tile; image paths are named after the mock's images.
    public init(mock: MockStampTile) {
        self.init(objects: mock.objects.enumerated().map { i, o in
                      StampObject(id: o.id, number: o.number, ra: o.ra, dec: o.dec, boxSize: mock.settings.boxSize,
                                  epochCount: mock.stamps[i].count)
                  },
                  cutouts: mock.stamps, origins: mock.origins, footprints: mock.footprints,
                  imagePaths: mock.images.indices.map { $0 == 0 ? "mock-coadd.fits" : "mock-epoch-\($0).fits" },
                  metadata: [.int64("mock_seed", [Int64(bitPattern: mock.settings.seed)])])
    }
}

public enum MEDSWriter {
    /// The reference implementation's fill value for unused per-cutout slots.
    public static let unusedValue: Int64 = -9999

    /// Writes `contents` to a new file at `path` (refusing an existing one unless `overwrite`).
    public static func write(_ contents: MEDSContents, to path: String, compression: FITSCompression? = nil,
                             overwrite: Bool = false) throws {
        let objects = contents.objects
        guard !objects.isEmpty else { throw MEDSError(path: path, hdu: "object_data", detail: "no objects to write") }
        for (i, cutouts) in contents.cutouts.enumerated() {
            guard !cutouts.isEmpty else {
                throw MEDSError(path: path, hdu: "object_data", field: "ncutout", object: i, detail: "object has no cutouts")
            }
            guard cutouts.allSatisfy({ $0.rows == objects[i].boxSize && $0.cols == objects[i].boxSize }),
                  contents.origins[i].count == cutouts.count, contents.footprints[i].count == cutouts.count else {
                throw MEDSError(path: path, hdu: "object_data", field: "box_size", object: i,
                                detail: "every cutout must be box_size × box_size with one origin and footprint each")
            }
        }
        let width = contents.cutouts.map(\.count).max()!
        let n = objects.count
        var fileID = [Int64](repeating: unusedValue, count: n * width)
        var startRow = fileID, origStartRow = fileID, origStartCol = fileID, psfStart = fileID
        var psfRows = [Int32](repeating: Int32(unusedValue), count: n * width), psfCols = psfRows
        var reals: [String: [Double]] = [:]
        for name in MEDSFile.realFields + ["psf_cutout_row", "psf_cutout_col"] {
            reals[name] = [Double](repeating: Double(unusedValue), count: n * width)
        }
        var image: [Float] = [], weight: [Float] = [], seg: [Int32] = [], bmask: [Int32] = [], psf: [Float] = []
        let hasSeg = contents.cutouts.allSatisfy { $0.allSatisfy { $0.seg != nil } }
        let hasBmask = contents.cutouts.allSatisfy { $0.allSatisfy { $0.bmask != nil } }
        let hasPSF = contents.cutouts.allSatisfy { $0.allSatisfy { $0.psf != nil } }
        for (i, cutouts) in contents.cutouts.enumerated() {
            for (c, stamp) in cutouts.enumerated() {
                let k = i * width + c
                guard stamp.fileID >= 0, stamp.fileID < contents.imagePaths.count else {
                    throw MEDSError(path: path, hdu: "object_data", field: "file_id", object: i,
                                    detail: "cutout \(c) names image \(stamp.fileID), but there are \(contents.imagePaths.count) image paths")
                }
                fileID[k] = Int64(stamp.fileID)
                startRow[k] = Int64(image.count)
                origStartRow[k] = Int64(contents.footprints[i][c].rowStart)
                origStartCol[k] = Int64(contents.footprints[i][c].colStart)
                reals["orig_row"]![k] = contents.origins[i][c].row
                reals["orig_col"]![k] = contents.origins[i][c].col
                let j = stamp.jacobian
                reals["cutout_row"]![k] = j.row0
                reals["cutout_col"]![k] = j.col0
                reals["dudrow"]![k] = j.dudrow
                reals["dudcol"]![k] = j.dudcol
                reals["dvdrow"]![k] = j.dvdrow
                reals["dvdcol"]![k] = j.dvdcol
                image += stamp.image
                weight += stamp.weight
                if hasSeg { seg += stamp.seg! }
                if hasBmask { bmask += stamp.bmask! }
                if hasPSF, let p = stamp.psf {
                    psfStart[k] = Int64(psf.count)
                    psfRows[k] = Int32(p.rows)
                    psfCols[k] = Int32(p.cols)
                    reals["psf_cutout_row"]![k] = p.centerRow
                    reals["psf_cutout_col"]![k] = p.centerCol
                    psf += p.pixels
                }
            }
        }

        var objectColumns: [FITSColumn] = [
            .int64("id", objects.map(\.id)), .int64("number", objects.map(\.number)),
            .int64("box_size", objects.map { Int64($0.boxSize) }),
            .double("ra", objects.map(\.ra), unit: "deg"), .double("dec", objects.map(\.dec), unit: "deg"),
            .int64("ncutout", contents.cutouts.map { Int64($0.count) }),
            .int64Vector("file_id", values: fileID, width: width),
            .int64Vector("start_row", values: startRow, width: width),
            .doubleVector("orig_row", values: reals["orig_row"]!, width: width, unit: "pixel"),
            .doubleVector("orig_col", values: reals["orig_col"]!, width: width, unit: "pixel"),
            .int64Vector("orig_start_row", values: origStartRow, width: width),
            .int64Vector("orig_start_col", values: origStartCol, width: width),
        ]
        for name in ["cutout_row", "cutout_col"] {
            objectColumns.append(.doubleVector(name, values: reals[name]!, width: width, unit: "pixel"))
        }
        for name in ["dudrow", "dudcol", "dvdrow", "dvdcol"] {
            objectColumns.append(.doubleVector(name, values: reals[name]!, width: width, unit: "arcsec/pixel"))
        }
        if hasPSF {
            objectColumns += [
                .int32Vector("psf_row_size", values: psfRows, width: width),
                .int32Vector("psf_col_size", values: psfCols, width: width),
                .doubleVector("psf_cutout_row", values: reals["psf_cutout_row"]!, width: width, unit: "pixel"),
                .doubleVector("psf_cutout_col", values: reals["psf_cutout_col"]!, width: width, unit: "pixel"),
                .int64Vector("psf_start_row", values: psfStart, width: width),
            ]
        }
        let images = contents.imagePaths.count
        var info: [FITSColumn] = []
        for type in ["image", "weight", "seg", "bmask", "bkg"] {
            let ext: Int16 = type == "image" ? 0 : (type == "weight" ? 1 : (type == "seg" ? 2 : (type == "bmask" ? 3 : -1)))
            info.append(.string("\(type)_path", contents.imagePaths.map { type == "bkg" ? "" : $0 }))
            info.append(.int16("\(type)_ext", [Int16](repeating: ext, count: images)))
        }
        info += [
            .int64("image_id", (0..<images).map { Int64($0) }), .int64("image_flags", [Int64](repeating: 0, count: images)),
            .float("magzp", [Float](repeating: 30, count: images)), .float("scale", [Float](repeating: 1, count: images)),
            .double("position_offset", [Double](repeating: 1, count: images)),
        ]

        let fits = try FITSFile(creatingAt: path, overwrite: overwrite)
        do {
            try fits.appendTable(objectColumns, extname: "object_data")
            try fits.appendTable(info, extname: "image_info")
            try fits.appendTable(contents.metadata + [.string("tessera_meds_writer", ["1"])], extname: "metadata")
            try fits.appendArray(image, extname: "image_cutouts", compression: compression)
            try fits.appendArray(weight, extname: "weight_cutouts", compression: compression)
            if hasSeg { try fits.appendArray(seg, extname: "seg_cutouts", compression: compression) }
            if hasBmask { try fits.appendArray(bmask, extname: "bmask_cutouts", compression: compression) }
            if hasPSF { try fits.appendArray(psf, extname: "psf", compression: compression) }
            try fits.close()
        } catch let error as FITSError {
            try? fits.close()
            try? FileManager.default.removeItem(atPath: path)
            throw MEDSError(path: path, detail: "cannot write: \(error)")
        }
    }
}
