import CFITSIO

/// Reading and writing image HDUs (primary array or IMAGE extensions).
extension FITSFile {
    /// Axis lengths (FITS order, NAXIS1 first) of the image in HDU `hdu` (0-based; nil = current).
    /// Empty for an HDU without data (NAXIS = 0).
    public func imageShape(hdu: Int? = nil) throws -> [Int] {
        try withHandle(hdu: hdu) { fptr in try imageParameters(fptr).shape }
    }

    /// Reads the whole image in HDU `hdu` (0-based; nil = current) as `Pixel`.
    ///
    /// Whatever BITPIX is stored is converted by CFITSIO (BSCALE/BZERO applied); integer pixels
    /// equal to BLANK come back as NaN. Floating-point data of the requested width is returned bit
    /// for bit (NaNs and subnormals included).
    ///
    /// - Throws: `FITSError` `.wrongHDUType` for a table HDU or an HDU without data,
    ///   `.truncated` if the file ends inside the pixel data, `.cfitsio` for other read failures.
    public func readImage<Pixel: FITSPixel>(_: Pixel.Type = Pixel.self, hdu: Int? = nil) throws -> FITSImage<Pixel> {
        try withHandle(hdu: hdu) { fptr in
            let index = currentIndex(fptr)
            let (bitpix, shape) = try imageParameters(fptr)
            guard !shape.isEmpty else {
                throw FITSError(reason: .wrongHDUType, path: path, hdu: index,
                                detail: "HDU has no image data (NAXIS = 0)")
            }
            guard shape.allSatisfy({ $0 > 0 }) else {
                throw FITSError(reason: .wrongHDUType, path: path, hdu: index,
                                detail: "image has an axis of length 0 (shape \(shape))")
            }
            let datatype = try cfitsioDatatype(Pixel.self)
            let count = shape.reduce(1, *)
            var pixels = [Pixel](repeating: 0, count: count)
            var nullValue = Pixel.nan
            var anyNull: Int32 = 0
            var status: Int32 = 0
            withUnsafeMutablePointer(to: &nullValue) { null in
                // Integer data: ask CFITSIO to turn BLANK pixels into NaN. Float data: no null
                // checking, because with it CFITSIO also flushes subnormal values to zero; stored
                // NaNs stay NaN either way, so floats come back bit for bit.
                let nullPointer = bitpix > 0 ? UnsafeMutableRawPointer(null) : nil
                pixels.withUnsafeMutableBufferPointer { buffer in
                    _ = ffgpv(fptr, datatype, 1, Int64(count), nullPointer, buffer.baseAddress, &anyNull, &status)
                }
            }
            let reason = Self.readFailureReason(status)
            try check(status, hdu: index,
                      "cannot read \(count) image pixels (shape \(shape))"
                          + (reason == .truncated ? ": the file ends inside the image data (truncated)" : ""),
                      reason: reason)
            return FITSImage(shape: shape, pixels: pixels)
        }
    }

    /// Appends `image` as a new HDU at the end of the file and returns its 0-based index.
    ///
    /// In a file without HDUs this writes the primary HDU; otherwise an IMAGE extension.
    /// `Float` images are stored with BITPIX = -32, `Double` with -64. If `extname` is given it
    /// is written as EXTNAME (allowed in the primary HDU too).
    @discardableResult
    public func appendImage<Pixel: FITSPixel>(_ image: FITSImage<Pixel>, extname: String? = nil) throws -> Int {
        try requireWritable()
        if let extname { try validateStringValue(extname, keyword: "EXTNAME", hdu: nil) }
        let index = try withHandle(hdu: nil) { fptr -> Int in
            var status: Int32 = 0
            var count: Int32 = 0
            ffthdu(fptr, &count, &status)
            if count > 0 { ffmahd(fptr, count, nil, &status) }
            try check(status, hdu: nil, "cannot move to the end of the file to append an image")
            var naxes = image.shape.map { Int64($0) }
            ffcrimll(fptr, Int32(Pixel.fitsBitpix), Int32(naxes.count), &naxes, &status)
            try check(status, hdu: Int(count), "cannot create image HDU with shape \(image.shape)")
            try writePixels(image, fptr: fptr, hdu: Int(count))
            return Int(count)
        }
        if let extname {
            try writeKeyword("EXTNAME", .string(extname), comment: "extension name", hdu: index)
        }
        return index
    }

    /// Replaces the data of the existing image HDU `hdu` (0-based) with `image`, resizing it and
    /// changing BITPIX to that of `Pixel` as needed. Header keywords other than the structural
    /// ones (BITPIX, NAXISn) are kept.
    public func writeImage<Pixel: FITSPixel>(_ image: FITSImage<Pixel>, hdu: Int) throws {
        try requireWritable()
        try withHandle(hdu: hdu) { fptr in
            try requireImage(fptr, doing: "cannot write an image into")
            var status: Int32 = 0
            var naxes = image.shape.map { Int64($0) }
            ffrsimll(fptr, Int32(Pixel.fitsBitpix), Int32(naxes.count), &naxes, &status)
            try check(status, hdu: hdu, "cannot resize image HDU to shape \(image.shape)")
            try writePixels(image, fptr: fptr, hdu: hdu)
        }
    }

    // MARK: Internals

    /// The current HDU's index; throws `.wrongHDUType` ("cannot read an image from a binaryTable
    /// HDU") unless it is an image.
    @discardableResult
    private func requireImage(_ fptr: UnsafeMutablePointer<fitsfile>, doing action: String) throws -> Int {
        let index = currentIndex(fptr)
        var type: Int32 = 0
        var status: Int32 = 0
        ffghdt(fptr, &type, &status)
        try check(status, hdu: index, "cannot read HDU type")
        guard type == IMAGE_HDU else {
            throw FITSError(reason: .wrongHDUType, path: path, hdu: index,
                            detail: "\(action) a \(try hduType(code: type, hdu: index).rawValue) HDU")
        }
        return index
    }

    /// BITPIX and shape of the current HDU, which must be an image.
    private func imageParameters(_ fptr: UnsafeMutablePointer<fitsfile>) throws -> (bitpix: Int, shape: [Int]) {
        let index = try requireImage(fptr, doing: "cannot read an image from")
        var status: Int32 = 0
        var naxis: Int32 = 0
        ffgidm(fptr, &naxis, &status)
        try check(status, hdu: index, "cannot read NAXIS")
        var naxes = [Int64](repeating: 0, count: max(Int(naxis), 1))
        var bitpix: Int32 = 0
        ffgiprll(fptr, naxis, &bitpix, &naxis, &naxes, &status)
        try check(status, hdu: index, "cannot read image BITPIX/NAXISn")
        return (Int(bitpix), naxes.prefix(Int(naxis)).map { Int($0) })
    }

    private func writePixels<Pixel: FITSPixel>(_ image: FITSImage<Pixel>, fptr: UnsafeMutablePointer<fitsfile>,
                                               hdu: Int) throws {
        let datatype = try cfitsioDatatype(Pixel.self)
        var status: Int32 = 0
        image.pixels.withUnsafeBufferPointer { buffer in
            // CFITSIO declares the input `void *` but only reads it (conversion goes through its
            // own buffer), so handing it our immutable storage is safe.
            _ = ffppr(fptr, datatype, 1, Int64(buffer.count), UnsafeMutableRawPointer(mutating: UnsafeRawPointer(buffer.baseAddress)),
                      &status)
        }
        try check(status, hdu: hdu, "cannot write \(image.count) image pixels")
    }

    /// CFITSIO datatype code for a pixel type; guards against foreign `FITSPixel` conformances
    /// whose memory layout would not match.
    func cfitsioDatatype<Pixel: FITSPixel>(_: Pixel.Type) throws -> Int32 {
        if Pixel.self == Float.self { return TFLOAT }
        if Pixel.self == Double.self { return TDOUBLE }
        throw FITSError(reason: .invalidArgument, path: path,
                        detail: "unsupported pixel type \(Pixel.self) (use Float or Double)")
    }

    func requireWritable() throws {
        guard mode == .readWrite else {
            throw FITSError(reason: .invalidArgument, path: path,
                            detail: "the file was opened read-only")
        }
    }

    /// Data reads that run off the end of the file mean the file is truncated.
    static func readFailureReason(_ status: Int32) -> FITSError.Reason {
        status == END_OF_FILE || status == 108 /* READ_ERROR */ ? .truncated : .cfitsio
    }
}
