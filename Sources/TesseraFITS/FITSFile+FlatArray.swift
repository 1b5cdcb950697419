import CFITSIO
import Foundation

/// Element types of a flat (1-D) image HDU: the pixel types plus 32-bit integers, which
/// segmentation maps and bit masks need exactly (a `Float` holds integers exactly only to 2²⁴).
public protocol FITSArrayElement: Sendable, Equatable {
    /// BITPIX the type is written with (-32, -64 or 32).
    static var fitsArrayBitpix: Int { get }
    /// CFITSIO's datatype code for this Swift type (TFLOAT, TDOUBLE, TINT).
    static var fitsArrayDatatype: Int32 { get }
    static var fitsArrayZero: Self { get }
}

extension Float: FITSArrayElement {
    public static var fitsArrayBitpix: Int { -32 }
    public static var fitsArrayDatatype: Int32 { TFLOAT }
    public static var fitsArrayZero: Float { 0 }
}

extension Double: FITSArrayElement {
    public static var fitsArrayBitpix: Int { -64 }
    public static var fitsArrayDatatype: Int32 { TDOUBLE }
    public static var fitsArrayZero: Double { 0 }
}

extension Int32: FITSArrayElement {
    public static var fitsArrayBitpix: Int { 32 }
    public static var fitsArrayDatatype: Int32 { TINT }
    public static var fitsArrayZero: Int32 { 0 }
}

/// Tile compression for an image HDU (the FITS tiled-image convention, as `fpack` writes it).
///
/// CFITSIO stores a compressed image as a binary table and reads it back as an ordinary image,
/// so readers need nothing special. Tiles are what make a slice read cheap: only the tiles that
/// hold the slice are decompressed.
public struct FITSCompression: Sendable, Equatable {
    public enum Algorithm: Sendable, Equatable {
        /// Rice: lossless for integers; floats are quantized (lossy) at `quantizeLevel`.
        case rice
        /// GZIP with byte shuffling: lossless for integers and, with `quantizeLevel` 0, for floats.
        case gzip
    }

    public var algorithm: Algorithm
    /// Elements per tile along NAXIS1 (whole rows for 2-D images).
    public var tileLength: Int
    /// CFITSIO's quantization level for float data (noise σ / q per level; 0 = lossless, gzip
    /// only). Ignored for integer data.
    public var quantizeLevel: Float

    public init(algorithm: Algorithm, tileLength: Int = 10_000, quantizeLevel: Float = 0) {
        self.algorithm = algorithm
        self.tileLength = tileLength
        self.quantizeLevel = quantizeLevel
    }

    /// Lossless for every element type.
    public static let losslessGzip = FITSCompression(algorithm: .gzip)
}

/// Flat arrays stored as 1-D image HDUs, written whole and read by slices.
///
/// Survey formats such as MEDS concatenate thousands of postage stamps into one 1-D image and
/// address each by its first element; reading a stamp must not read the whole array.
extension FITSFile {
    /// Appends `values` as a 1-D image HDU (NAXIS1 = count), optionally tile-compressed, and
    /// returns its 0-based index. A file without HDUs first gets an empty primary HDU (a
    /// compressed image cannot be primary, and the layout then does not depend on compression).
    /// - Throws: `.invalidArgument` for an empty array or a bad tile length.
    @discardableResult
    public func appendArray<Element: FITSArrayElement>(_ values: [Element], extname: String,
                                                       compression: FITSCompression? = nil) throws -> Int {
        try requireWritable()
        try validateStringValue(extname, keyword: "EXTNAME", hdu: nil)
        guard !values.isEmpty else {
            throw FITSError(reason: .invalidArgument, path: path, detail: "array '\(extname)' is empty; a 1-D image needs NAXIS1 ≥ 1")
        }
        if let compression, compression.tileLength < 1 {
            throw FITSError(reason: .invalidArgument, path: path, detail: "tile length must be ≥ 1, got \(compression.tileLength)")
        }
        let index = try withHandle(hdu: nil) { fptr -> Int in
            var status: Int32 = 0
            let index = try moveToAppend(fptr)
            if let compression {
                fits_set_compression_type(fptr, compression.algorithm == .rice ? RICE_1 : GZIP_2, &status)
                var tile = [Int](repeating: compression.tileLength, count: 1)
                fits_set_tile_dim(fptr, 1, &tile, &status)
                fits_set_quantize_level(fptr, compression.quantizeLevel, &status)
                try check(status, hdu: index, "cannot set tile compression for '\(extname)'")
            }
            defer {
                // Later HDUs of this file are not compressed unless asked again (type 0 = none).
                if compression != nil {
                    var ignored: Int32 = 0
                    fits_set_compression_type(fptr, 0, &ignored)
                }
            }
            var naxes = [Int64(values.count)]
            ffcrimll(fptr, Int32(Element.fitsArrayBitpix), 1, &naxes, &status)
            try check(status, hdu: index, "cannot create 1-D image '\(extname)' of \(values.count) elements")
            values.withUnsafeBufferPointer { buffer in
                // CFITSIO only reads the input buffer.
                _ = ffppr(fptr, Element.fitsArrayDatatype, 1, Int64(buffer.count),
                          UnsafeMutableRawPointer(mutating: UnsafeRawPointer(buffer.baseAddress)), &status)
            }
            try check(status, hdu: index, "cannot write \(values.count) elements of '\(extname)'")
            return index
        }
        try writeKeyword("EXTNAME", .string(extname), comment: "extension name", hdu: index)
        return index
    }

    /// Number of elements (product of the axis lengths) of the image in HDU `hdu`; 0 for NAXIS = 0.
    public func arrayLength(hdu: Int? = nil) throws -> Int {
        let shape = try imageShape(hdu: hdu)
        return shape.isEmpty ? 0 : shape.reduce(1, *)
    }

    /// Reads `count` elements starting at 0-based element `start` of the image in HDU `hdu`
    /// (flat order, x fastest), converted to `Element`. Works on tile-compressed images.
    /// - Throws: `.invalidArgument` if the slice runs past the image, `.truncated` if the file
    ///   ends inside the data.
    public func readArraySlice<Element: FITSArrayElement>(_: Element.Type = Element.self, hdu: Int? = nil,
                                                          start: Int, count: Int) throws -> [Element] {
        let length = try arrayLength(hdu: hdu)
        return try withHandle(hdu: hdu) { fptr in
            let index = currentIndex(fptr)
            guard start >= 0, count >= 0, start + count <= length else {
                throw FITSError(reason: .invalidArgument, path: path, hdu: index,
                                detail: "elements \(start)..<\(start + count) lie outside the image's \(length) elements")
            }
            var values = [Element](repeating: Element.fitsArrayZero, count: count)
            guard count > 0 else { return values }
            var status: Int32 = 0
            var anyNull: Int32 = 0
            values.withUnsafeMutableBufferPointer { buffer in
                _ = ffgpv(fptr, Element.fitsArrayDatatype, Int64(start + 1), Int64(count), nil, buffer.baseAddress,
                          &anyNull, &status)
            }
            let reason = Self.readFailureReason(status)
            try check(status, hdu: index,
                      "cannot read elements \(start)..<\(start + count)"
                          + (reason == .truncated ? ": the file ends inside the image data (truncated)" : ""),
                      reason: reason)
            return values
        }
    }

    /// Throws `.truncated` if the file on disk ends before the end of HDU `hdu`'s data, so that a
    /// cut-short file is reported when it is opened rather than when some late read fails.
    public func requireCompleteData(hdu: Int) throws {
        let end = try withHandle(hdu: hdu) { fptr -> Int64 in
            var headStart: Int64 = 0, dataStart: Int64 = 0, dataEnd: Int64 = 0
            var status: Int32 = 0
            ffghadll(fptr, &headStart, &dataStart, &dataEnd, &status)
            try check(status, hdu: hdu, "cannot read the HDU's byte offsets")
            return dataEnd
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
        // The FITS standard pads every HDU to whole 2880-byte blocks, so a complete file reaches
        // the padded end of each HDU's data.
        guard size >= end else {
            throw FITSError(reason: .truncated, path: path, hdu: hdu,
                            detail: "the file has \(size) bytes but this HDU's data runs to byte \(end) (truncated)")
        }
    }
}
