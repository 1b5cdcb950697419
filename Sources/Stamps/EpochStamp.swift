import SceneModel

/// Per-object postage stamps across epochs, and the one protocol every image input implements.
///
/// Conventions (those of MEDS, so nothing is transposed between file and fit):
/// - a stamp is `rows × cols` pixels stored row-major: pixel (row, col) is `pixels[row * cols + col]`;
///   `col` runs along FITS NAXIS1 (x), `row` along NAXIS2 (y); both 0-based, pixel centres at
///   integer positions;
/// - sky offsets (u, v) are in **arcseconds** on the tangent plane at the object; their
///   orientation is whatever the input's Jacobian says (the stamp code never assumes one).

/// The local linear map from stamp pixels to sky offsets (ngmix's and MEDS's Jacobian):
///   u = dudrow·(row − row0) + dudcol·(col − col0),  v = dvdrow·(row − row0) + dvdcol·(col − col0),
/// with (u, v) in arcsec and (row0, col0) the object's centre in the stamp, in pixels.
public struct StampJacobian: Sendable, Equatable, Codable {
    /// The object's centre in the stamp (pixels, 0-based, may be fractional).
    public var row0: Double
    public var col0: Double
    /// Partial derivatives in arcsec per pixel.
    public var dudrow: Double
    public var dudcol: Double
    public var dvdrow: Double
    public var dvdcol: Double

    public init(row0: Double, col0: Double, dudrow: Double, dudcol: Double, dvdrow: Double, dvdcol: Double) {
        self.row0 = row0; self.col0 = col0
        self.dudrow = dudrow; self.dudcol = dudcol; self.dvdrow = dvdrow; self.dvdcol = dvdcol
    }

    /// Determinant in arcsec² per pixel: the solid angle of one pixel (its absolute value).
    public var determinant: Double { dudrow * dvdcol - dudcol * dvdrow }

    /// Sky offset (arcsec) of pixel position (row, col).
    public func uv(row: Double, col: Double) -> (u: Double, v: Double) {
        let dr = row - row0, dc = col - col0
        return (dudrow * dr + dudcol * dc, dvdrow * dr + dvdcol * dc)
    }

    /// Pixel position of sky offset (u, v) (arcsec); the inverse of `uv(row:col:)`.
    public func rowCol(u: Double, v: Double) -> (row: Double, col: Double) {
        let det = determinant
        let dr = (dvdcol * u - dudcol * v) / det
        let dc = (-dvdrow * u + dudrow * v) / det
        return (row0 + dr, col0 + dc)
    }
}

/// A pixelised PSF for one epoch: `rows × cols` values, row-major as stamps, centred at
/// (centerRow, centerCol) pixels. Normalisation is whatever the source stored (MEDS PSFs are
/// usually unit-sum images).
public struct StampPSFImage: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var centerRow: Double
    public var centerCol: Double
    public var pixels: [Float]

    public init(rows: Int, cols: Int, centerRow: Double, centerCol: Double, pixels: [Float]) {
        precondition(rows * cols == pixels.count, "StampPSFImage: \(rows) × \(cols) needs \(rows * cols) pixels, got \(pixels.count)")
        self.rows = rows; self.cols = cols; self.centerRow = centerRow; self.centerCol = centerCol; self.pixels = pixels
    }
}

/// One epoch's view of one object: pixels, inverse-variance weights, masks, Jacobian and PSF.
public struct EpochStamp: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    /// Pixel values, in the flux units of the source image.
    public var image: [Float]
    /// Inverse variance per pixel (1/flux²); 0 marks a pixel to ignore.
    public var weight: [Float]
    /// Segmentation ids (the detection catalogue's `number` owning each pixel, 0 for sky); nil
    /// when the source has none.
    public var seg: [Int32]?
    /// Bit mask (0 = good); nil when the source has none.
    public var bmask: [Int32]?
    public var jacobian: StampJacobian
    public var psf: StampPSFImage?
    /// The epoch's PSF as a Gaussian mixture in this stamp's pixel frame (x = col, y = row), when
    /// the input carries one (a PSF store); fitters use it as it is instead of fitting `psf`.
    public var psfMixture: PSFMixture?
    /// Which image this epoch was cut from (MEDS `file_id`: a row of `image_info`; a pixel
    /// store's exposure index).
    public var fileID: Int

    public init(rows: Int, cols: Int, image: [Float], weight: [Float], seg: [Int32]? = nil, bmask: [Int32]? = nil,
                jacobian: StampJacobian, psf: StampPSFImage? = nil, psfMixture: PSFMixture? = nil, fileID: Int) {
        precondition(image.count == rows * cols && weight.count == rows * cols,
                     "EpochStamp: image and weight need \(rows * cols) pixels")
        precondition(seg.map { $0.count == rows * cols } ?? true && bmask.map { $0.count == rows * cols } ?? true,
                     "EpochStamp: seg and bmask need \(rows * cols) pixels")
        self.rows = rows; self.cols = cols; self.image = image; self.weight = weight; self.seg = seg
        self.bmask = bmask; self.jacobian = jacobian; self.psf = psf; self.psfMixture = psfMixture; self.fileID = fileID
    }
}

/// What identifies one object of an image input.
public struct StampObject: Sendable, Equatable {
    /// Catalogue id (MEDS `id`).
    public var id: Int64
    /// Segmentation-map number (MEDS `number`, or index + 1 when the file has none).
    public var number: Int64
    /// Position in degrees.
    public var ra: Double
    public var dec: Double
    /// Side of the object's square stamps, pixels.
    public var boxSize: Int
    /// How many epochs (cutouts) the object has.
    public var epochCount: Int

    public init(id: Int64, number: Int64, ra: Double, dec: Double, boxSize: Int, epochCount: Int) {
        self.id = id; self.number = number; self.ra = ra; self.dec = dec; self.boxSize = boxSize; self.epochCount = epochCount
    }
}

/// Every image input behind one interface (ngmixer's ImageIO idea): a fitter asks for objects by
/// index and gets each object's epochs, never a file format.
///
/// Implemented by `MEDSFile` (MEDSIO) and by `PixelStoreStamps` (ImageStores: catalogue sources
/// cut from a scene pixel store, with Jacobians from each exposure's WCS and PSF mixtures from a
/// PSF store), and wrapped by `StorePSFStamps` (ImageStores) to take every epoch's PSF from a PSF
/// store instead of the input's own.
public protocol ObjectStamps {
    /// Whether epoch 0 of every object is a coadd (the MEDS convention), which fitters skip in
    /// favour of the single epochs unless told to fit the coadd.
    var coaddFirst: Bool { get }
    /// Number of objects; indices run over 0..<objectCount.
    var objectCount: Int { get }
    /// Identity and stamp geometry of object `index`.
    func object(_ index: Int) throws -> StampObject
    /// Every epoch of object `index`, in the input's order (MEDS: cutout 0 first, the coadd).
    func epochs(ofObject index: Int) throws -> [EpochStamp]
}
