/// Pixel types a `FITSImage` can hold: `Float` (stored as BITPIX = -32) and `Double`
/// (BITPIX = -64).
///
/// Reading converts whatever BITPIX the file stores (integers with BSCALE/BZERO applied, or the
/// other float width) into the requested type; integer BLANK pixels become NaN.
public protocol FITSPixel: BinaryFloatingPoint, Sendable {
    /// The FITS BITPIX this type is written with (-32 or -64).
    static var fitsBitpix: Int { get }
}

extension Float: FITSPixel {
    public static var fitsBitpix: Int { -32 }
}

extension Double: FITSPixel {
    public static var fitsBitpix: Int { -64 }
}

/// An n-dimensional image as stored in a FITS HDU.
///
/// Conventions (the FITS ones, so that nothing is transposed on the way in or out):
/// - `shape` lists the axis lengths in FITS order: `shape[0]` = NAXIS1 (x, columns, the fastest
///   varying axis), `shape[1]` = NAXIS2 (y, rows), and so on.
/// - `pixels` is the flat pixel array with x varying fastest: pixel (x, y) of a 2-D image is
///   `pixels[y * width + x]`, i.e. row-major with one row per y.
/// - Pixel indices are 0-based. FITS pixel (i, j) in 1-based header terms (e.g. CRPIX) is
///   `image[i - 1, j - 1]`.
public struct FITSImage<Pixel: FITSPixel>: Sendable, Equatable {
    /// Axis lengths in FITS order (NAXIS1 first). Every length is at least 1.
    public let shape: [Int]
    /// Pixel values, x fastest (see the type's documentation). Its count always equals
    /// the product of `shape`.
    public var pixels: [Pixel] {
        didSet { precondition(pixels.count == count, "FITSImage: pixel count must stay \(count)") }
    }

    /// An image with the given shape (FITS order) and pixels (x fastest).
    /// - Precondition: `shape` is non-empty, every length ≥ 1, and `pixels.count` equals their product.
    public init(shape: [Int], pixels: [Pixel]) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 >= 1 },
                     "FITSImage: shape must be non-empty with positive lengths, got \(shape)")
        let count = shape.reduce(1, *)
        precondition(pixels.count == count,
                     "FITSImage: shape \(shape) needs \(count) pixels, got \(pixels.count)")
        self.shape = shape
        self.pixels = pixels
    }

    /// An image of the given shape with every pixel set to `value`.
    public init(shape: [Int], repeating value: Pixel = 0) {
        self.init(shape: shape, pixels: [Pixel](repeating: value, count: shape.reduce(1, *)))
    }

    /// A 2-D image `width` (NAXIS1) × `height` (NAXIS2); `pixels[y * width + x]` is pixel (x, y).
    public init(width: Int, height: Int, pixels: [Pixel]) {
        self.init(shape: [width, height], pixels: pixels)
    }

    /// Number of pixels.
    public var count: Int { shape.reduce(1, *) }
    /// NAXIS1: number of columns (x).
    public var width: Int { shape[0] }
    /// NAXIS2: number of rows (y); 1 for a 1-D image.
    public var height: Int { shape.count > 1 ? shape[1] : 1 }

    /// Pixel (x, y), 0-based, of a 2-D image (or an image whose axes beyond the second have length 1).
    public subscript(x: Int, y: Int) -> Pixel {
        get { pixels[index2D(x, y)] }
        set { pixels[index2D(x, y)] = newValue }
    }

    /// Pixel at 0-based `index` in FITS axis order (`index[0]` = x).
    public subscript(index: [Int]) -> Pixel {
        get { pixels[linearIndex(index)] }
        set { pixels[linearIndex(index)] = newValue }
    }

    /// Position in `pixels` of the 0-based FITS-order `index`.
    public func linearIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count,
                     "FITSImage: index \(index) has \(index.count) axes, image has \(shape.count)")
        var linear = 0
        var stride = 1
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "FITSImage: index \(index) outside shape \(shape)")
            linear += i * stride
            stride *= shape[axis]
        }
        return linear
    }

    /// The same image with pixels converted to another floating-point type.
    public func converted<Other: FITSPixel>(to _: Other.Type = Other.self) -> FITSImage<Other> {
        FITSImage<Other>(shape: shape, pixels: pixels.map { Other($0) })
    }

    @inline(__always)
    private func index2D(_ x: Int, _ y: Int) -> Int {
        let w = shape[0]
        let h = shape.count > 1 ? shape[1] : 1
        precondition(shape.count <= 2 || shape.dropFirst(2).allSatisfy { $0 == 1 },
                     "FITSImage: [x, y] needs a 2-D image, shape is \(shape)")
        precondition(x >= 0 && x < w && y >= 0 && y < h,
                     "FITSImage: pixel (\(x), \(y)) outside \(w) × \(h)")
        return y * w + x
    }
}
