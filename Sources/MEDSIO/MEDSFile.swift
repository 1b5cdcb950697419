/// A MEDS (multi-epoch data structure) file opened for reading through CFITSIO.
///
/// Layout, as defined by the format's reference implementation (esheldon/meds):
/// - `object_data`: one row per object: `id`, `box_size`, `ra`, `dec` (degrees), `ncutout`, and
///   per cutout (vector columns of width ncutout_max) `file_id`, `start_row`, `orig_row`,
///   `orig_col`, `orig_start_row`, `orig_start_col`, `cutout_row`, `cutout_col` (pixels, 0-based)
///   and the Jacobian `dudrow`, `dudcol`, `dvdrow`, `dvdcol` (arcsec per pixel); optionally
///   `number` (seg id) and the PSF layout `psf_row_size`, `psf_col_size`, `psf_cutout_row`,
///   `psf_cutout_col`, `psf_start_row` (or a square `psf_box_size`);
/// - `image_info`: one row per source image (`file_id` indexes it; row 0 is the coadd by convention);
/// - `metadata`: one row of free-form information;
/// - `image_cutouts`, `weight_cutouts`, `seg_cutouts`, `bmask_cutouts`, `psf`: flat 1-D images.
///   Cutout c of object i is the `box_size²` elements from `start_row[i, c]`, row-major
///   (`box_size` rows of `box_size` columns); its PSF the `psf_row_size × psf_col_size` elements
///   from `psf_start_row[i, c]`.
/// Column widths vary between writers (`J` or `K`, `E` or `D`), so columns are read with conversion.
/// Tile-compressed cutout HDUs (fpack) read like plain ones.
///
/// Opening validates the whole layout — required HDUs and fields, every object's `ncutout`,
/// every cutout's pixel range against each cutout HDU, the file's length — and throws a
/// `MEDSError` naming the file, HDU, field and object on the first problem.
import Foundation
import Stamps
import TesseraFITS

public final class MEDSFile {
    /// The cutout arrays a MEDS file may hold, with their EXTNAMEs.
    public enum CutoutKind: String, Sendable, CaseIterable {
        case image, weight, seg, bmask
        public var extname: String { rawValue + "_cutouts" }
    }

    public let path: String
    /// Per-object fields of `object_data`, index = object index.
    public let ids: [Int64]
    /// Seg numbers (`number`, or index + 1 when the file has no such column, as the reference reader does).
    public let numbers: [Int64]
    public let boxSizes: [Int]
    public let ra: [Double]
    public let dec: [Double]
    public let cutoutCounts: [Int]
    /// Width of the per-cutout vector columns (ncutout_max).
    public let maxCutouts: Int
    /// Per-cutout vector fields, each `objectCount × maxCutouts` row-major.
    public let perCutout: [String: [Double]]
    public let fileIDs: [Int64]
    public let startRows: [Int64]
    public let origStartRows: [Int64]
    public let origStartCols: [Int64]
    /// PSF layout (nil when the file has no `psf` HDU).
    public let psfStartRows: [Int64]?
    public let psfRowSizes: [Int64]?
    public let psfColSizes: [Int64]?
    /// `psf_cutout_row/col` (pixels), nil when the file does not store them.
    public let psfCentreRows: [Double]?
    public let psfCentreCols: [Double]?
    /// `image_info` columns as read (strings trimmed), for provenance.
    public let imageInfo: [FITSColumn]
    /// `metadata` columns, empty if the file has none.
    public let metadata: [FITSColumn]
    /// Which cutout HDUs are present, with their 0-based HDU index.
    public let cutoutHDUs: [CutoutKind: Int]
    public let psfHDU: Int?

    private let fits: FITSFile

    /// The per-cutout real fields read from `object_data`.
    public static let realFields = ["orig_row", "orig_col", "cutout_row", "cutout_col", "dudrow", "dudcol", "dvdrow", "dvdcol"]

    public init(path: String) throws {
        self.path = path
        let fits: FITSFile
        do {
            fits = try FITSFile(path: path)
        } catch let error as FITSError {
            throw MEDSError(path: path, detail: error.reason == .fileNotFound ? "no such file" : "cannot open: \(error)")
        }
        func hdu(_ name: String, required: Bool) throws -> Int? {
            do { return try fits.moveToHDU(named: name).index } catch let error as FITSError where error.reason == .noSuchHDU {
                if required { throw MEDSError(path: path, hdu: name, detail: "required HDU is missing") }
                return nil
            }
        }
        func wrap<T>(_ hduName: String, _ field: String?, _ body: () throws -> T) throws -> T {
            do { return try body() } catch let error as FITSError {
                throw MEDSError(path: path, hdu: hduName, field: field ?? error.column, detail: error.detail)
            }
        }
        let objectHDU = try hdu("object_data", required: true)!
        let infoHDU = try hdu("image_info", required: true)!
        let metaHDU = try hdu("metadata", required: false)

        func integers(_ name: String) throws -> FITSNumericColumn<Int64> {
            try wrap("object_data", name) { try fits.readIntegerColumn(name, hdu: objectHDU) }
        }
        ids = try integers("id").values
        let objectCount = ids.count
        boxSizes = try integers("box_size").values.map { Int($0) }
        cutoutCounts = try integers("ncutout").values.map { Int($0) }
        ra = try wrap("object_data", "ra") { try fits.readRealColumn("ra", hdu: objectHDU).values }
        dec = try wrap("object_data", "dec") { try fits.readRealColumn("dec", hdu: objectHDU).values }
        numbers = try wrap("object_data", "number") { try fits.hasColumn("number", hdu: objectHDU) }
            ? try integers("number").values : (0..<objectCount).map { Int64($0 + 1) }
        let fileID = try integers("file_id")
        maxCutouts = fileID.width
        fileIDs = fileID.values
        startRows = try integers("start_row").values
        origStartRows = try integers("orig_start_row").values
        origStartCols = try integers("orig_start_col").values
        var reals: [String: [Double]] = [:]
        for name in Self.realFields {
            reals[name] = try wrap("object_data", name) { try fits.readRealColumn(name, hdu: objectHDU).values }
        }
        perCutout = reals
        imageInfo = try wrap("image_info", nil) { try fits.columnNames(hdu: infoHDU).compactMap { try? fits.readColumn($0, hdu: infoHDU) } }
        metadata = try metaHDU.map { h in try wrap("metadata", nil) { try fits.columnNames(hdu: h).compactMap { try? fits.readColumn($0, hdu: h) } } } ?? []

        var present: [CutoutKind: Int] = [:]
        for kind in CutoutKind.allCases {
            if let index = try hdu(kind.extname, required: kind == .image) { present[kind] = index }
        }
        cutoutHDUs = present
        psfHDU = try hdu("psf", required: false)
        if psfHDU != nil {
            if try wrap("object_data", nil, { try fits.hasColumn("psf_row_size", hdu: objectHDU) }) {
                psfRowSizes = try integers("psf_row_size").values
                psfColSizes = try integers("psf_col_size").values
            } else {
                let box = try integers("psf_box_size")
                // A scalar psf_box_size is per object; a vector one per cutout.
                let perCut = box.width == 1 ? box.values.flatMap { [Int64](repeating: $0, count: fileID.width) } : box.values
                psfRowSizes = perCut
                psfColSizes = perCut
            }
            psfStartRows = try integers("psf_start_row").values
            if try wrap("object_data", nil, { try fits.hasColumn("psf_cutout_row", hdu: objectHDU) }) {
                psfCentreRows = try wrap("object_data", "psf_cutout_row") { try fits.readRealColumn("psf_cutout_row", hdu: objectHDU).values }
                psfCentreCols = try wrap("object_data", "psf_cutout_col") { try fits.readRealColumn("psf_cutout_col", hdu: objectHDU).values }
            } else {
                psfCentreRows = nil; psfCentreCols = nil
            }
        } else {
            psfRowSizes = nil; psfColSizes = nil; psfStartRows = nil; psfCentreRows = nil; psfCentreCols = nil
        }
        let infoRows = try wrap("image_info", nil) { try fits.rowCount(hdu: infoHDU) }
        self.fits = fits
        try validate(objectHDU: objectHDU, infoRows: infoRows)
    }

    public func close() throws { try fits.close() }

    /// Checks the layout once, so that every later read is within bounds.
    private func validate(objectHDU: Int, infoRows: Int) throws {
        let width = maxCutouts
        for (name, values) in [("start_row", startRows), ("orig_start_row", origStartRows), ("orig_start_col", origStartCols)]
            where values.count != ids.count * width {
            throw MEDSError(path: path, hdu: "object_data", field: name,
                            detail: "has \(values.count / max(ids.count, 1)) values per object, file_id has \(width)")
        }
        for (name, values) in perCutout where values.count != ids.count * width {
            throw MEDSError(path: path, hdu: "object_data", field: name,
                            detail: "has \(values.count / max(ids.count, 1)) values per object, file_id has \(width)")
        }
        var lengths: [CutoutKind: Int] = [:]
        for (kind, index) in cutoutHDUs {
            do {
                try fits.requireCompleteData(hdu: index)
                lengths[kind] = try fits.arrayLength(hdu: index)
            } catch let error as FITSError {
                throw MEDSError(path: path, hdu: kind.extname, detail: error.detail)
            }
        }
        var psfLength = 0
        if let psfHDU {
            do {
                try fits.requireCompleteData(hdu: psfHDU)
                psfLength = try fits.arrayLength(hdu: psfHDU)
            } catch let error as FITSError {
                throw MEDSError(path: path, hdu: "psf", detail: error.detail)
            }
        }
        for i in 0..<ids.count {
            let n = cutoutCounts[i]
            guard n >= 1 else {
                throw MEDSError(path: path, hdu: "object_data", field: "ncutout", object: i,
                                detail: "object id \(ids[i]) has ncutout = \(n); every object needs at least one cutout")
            }
            guard n <= width else {
                throw MEDSError(path: path, hdu: "object_data", field: "ncutout", object: i,
                                detail: "object id \(ids[i]) has ncutout = \(n), more than the \(width) per-cutout slots")
            }
            guard boxSizes[i] >= 1 else {
                throw MEDSError(path: path, hdu: "object_data", field: "box_size", object: i,
                                detail: "object id \(ids[i]) has box_size = \(boxSizes[i])")
            }
            let npix = boxSizes[i] * boxSizes[i]
            for c in 0..<n {
                let start = Int(startRows[i * width + c])
                let file = fileIDs[i * width + c]
                guard file >= 0, file < infoRows else {
                    throw MEDSError(path: path, hdu: "object_data", field: "file_id", object: i,
                                    detail: "cutout \(c) names file_id \(file), but image_info has \(infoRows) rows")
                }
                for kind in CutoutKind.allCases {
                    guard let length = lengths[kind], start < 0 || start + npix > length else { continue }
                    throw MEDSError(path: path, hdu: kind.extname, field: "start_row", object: i,
                                    detail: "cutout \(c) needs elements \(start)..<\(start + npix), but the array has only \(length) (truncated cutout array?)")
                }
                if psfHDU != nil, let rows = psfRowSizes, let cols = psfColSizes, let starts = psfStartRows {
                    let k = i * width + c
                    let first = Int(starts[k]), count = Int(rows[k] * cols[k])
                    guard rows[k] >= 1, cols[k] >= 1, first >= 0, first + count <= psfLength else {
                        throw MEDSError(path: path, hdu: "psf", field: "psf_start_row", object: i,
                                        detail: "cutout \(c) needs PSF elements \(first)..<\(first + count) (\(rows[k]) × \(cols[k])), but the array has \(psfLength)")
                    }
                }
            }
        }
    }

    // MARK: Reading

    public var objectCount: Int { ids.count }

    private func requireCutout(_ object: Int, _ cutout: Int) throws {
        guard object >= 0, object < ids.count, cutout >= 0, cutout < cutoutCounts[object] else {
            throw MEDSError(path: path, object: object,
                            detail: "no cutout \(cutout) (the file has \(ids.count) objects; this one has \(object >= 0 && object < ids.count ? cutoutCounts[object] : 0) cutouts)")
        }
    }

    /// A per-cutout real field (`cutout_row`, `dudrow`, …) of cutout `cutout` of `object`.
    public func field(_ name: String, object: Int, cutout: Int) -> Double {
        perCutout[name]![object * maxCutouts + cutout]
    }

    /// The Jacobian of cutout `cutout` of `object`: centre (`cutout_row`, `cutout_col`) and derivatives.
    public func jacobian(object: Int, cutout: Int) throws -> StampJacobian {
        try requireCutout(object, cutout)
        return StampJacobian(row0: field("cutout_row", object: object, cutout: cutout),
                             col0: field("cutout_col", object: object, cutout: cutout),
                             dudrow: field("dudrow", object: object, cutout: cutout), dudcol: field("dudcol", object: object, cutout: cutout),
                             dvdrow: field("dvdrow", object: object, cutout: cutout), dvdcol: field("dvdcol", object: object, cutout: cutout))
    }

    /// The `box_size²` pixels (row-major) of a float cutout (`image` or `weight`).
    public func floatCutout(_ kind: CutoutKind, object: Int, cutout: Int) throws -> [Float] {
        try read(kind, object: object, cutout: cutout, as: Float.self)
    }

    /// The `box_size²` values (row-major) of an integer cutout (`seg` or `bmask`).
    public func intCutout(_ kind: CutoutKind, object: Int, cutout: Int) throws -> [Int32] {
        try read(kind, object: object, cutout: cutout, as: Int32.self)
    }

    /// The PSF image of cutout `cutout` of `object`, nil if the file has no `psf` HDU.
    public func psf(object: Int, cutout: Int) throws -> StampPSFImage? {
        try requireCutout(object, cutout)
        guard let psfHDU, let rows = psfRowSizes, let cols = psfColSizes, let starts = psfStartRows else { return nil }
        let k = object * maxCutouts + cutout
        let pixels = try wrapRead("psf") {
            try fits.readArraySlice(Float.self, hdu: psfHDU, start: Int(starts[k]), count: Int(rows[k] * cols[k]))
        }
        // Files with psf_box_size only carry no centre; the reference reader then has none either,
        // and the geometric centre of the image is the stated convention.
        return StampPSFImage(rows: Int(rows[k]), cols: Int(cols[k]),
                             centerRow: psfCentreRows?[k] ?? Double(rows[k] - 1) / 2,
                             centerCol: psfCentreCols?[k] ?? Double(cols[k] - 1) / 2,
                             pixels: pixels)
    }

    private func read<T: FITSArrayElement>(_ kind: CutoutKind, object: Int, cutout: Int, as type: T.Type) throws -> [T] {
        try requireCutout(object, cutout)
        guard let index = cutoutHDUs[kind] else {
            throw MEDSError(path: path, hdu: kind.extname, object: object, detail: "the file has no \(kind.extname) HDU")
        }
        let n = boxSizes[object] * boxSizes[object]
        return try wrapRead(kind.extname) {
            try fits.readArraySlice(T.self, hdu: index, start: Int(startRows[object * maxCutouts + cutout]), count: n)
        }
    }

    private func wrapRead<T>(_ hdu: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as FITSError {
            throw MEDSError(path: path, hdu: hdu, detail: error.description)
        }
    }
}

extension MEDSFile: ObjectStamps {
    /// MEDS puts the coadd cutout first (file_id 0 is the coadd image by convention).
    public var coaddFirst: Bool { true }

    public func object(_ index: Int) throws -> StampObject {
        guard index >= 0, index < ids.count else {
            throw MEDSError(path: path, object: index, detail: "no such object (the file has \(ids.count))")
        }
        return StampObject(id: ids[index], number: numbers[index], ra: ra[index], dec: dec[index],
                           boxSize: boxSizes[index], epochCount: cutoutCounts[index])
    }

    /// Every cutout of the object. Fitting needs weights, so a file without `weight_cutouts` is an error.
    public func epochs(ofObject index: Int) throws -> [EpochStamp] {
        _ = try object(index)
        let box = boxSizes[index]
        return try (0..<cutoutCounts[index]).map { c in
            let image = try floatCutout(.image, object: index, cutout: c)
            let weight = try floatCutout(.weight, object: index, cutout: c)
            return EpochStamp(rows: box, cols: box, image: image, weight: weight,
                              seg: cutoutHDUs[.seg] != nil ? try intCutout(.seg, object: index, cutout: c) : nil,
                              bmask: cutoutHDUs[.bmask] != nil ? try intCutout(.bmask, object: index, cutout: c) : nil,
                              jacobian: try jacobian(object: index, cutout: c), psf: try psf(object: index, cutout: c),
                              fileID: Int(fileIDs[index * maxCutouts + c]))
        }
    }
}
