import CPNG
import Foundation

/// An 8-bit PNG image (gray, RGB or RGBA), encoded and decoded through libpng's simplified API.
///
/// `pixels` are row-major from the TOP row (PNG's order, not FITS's bottom-up order), `channels`
/// bytes per pixel, no padding. Only this file touches libpng; the simplified `png_image_*` API
/// reports errors in its struct rather than by `longjmp`, so every failure becomes a `PNGError`
/// naming what failed.
public struct PNGImage: Sendable, Equatable {
    public enum Channels: Int, Sendable, CaseIterable {
        case gray = 1, rgb = 3, rgba = 4

        var format: png_uint_32 {
            switch self {
            case .gray: return tessera_png_format_gray()
            case .rgb: return tessera_png_format_rgb()
            case .rgba: return tessera_png_format_rgba()
            }
        }
    }

    public var width: Int
    public var height: Int
    public var channels: Channels
    public var pixels: [UInt8]

    /// Fails if `pixels` does not hold `width × height × channels` bytes or a side is not positive.
    public init(width: Int, height: Int, channels: Channels, pixels: [UInt8]) throws {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 else {
            throw PNGError(message: "image size \(width)×\(height) must be positive (and below 2^20)")
        }
        guard pixels.count == width * height * channels.rawValue else {
            throw PNGError(message: "\(pixels.count) bytes for a \(width)×\(height) image with \(channels.rawValue) channel(s); expected \(width * height * channels.rawValue)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// The PNG file's bytes.
    public func encoded() throws -> [UInt8] {
        var image = tessera_png_image()
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = channels.format
        let stride = png_int_32(width * channels.rawValue)
        var size: png_alloc_size_t = 0
        // First call: the size needed (libpng compresses once to find it).
        var ok = pixels.withUnsafeBytes { png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, stride, nil) }
        guard ok != 0, size > 0 else { throw PNGError(message: "encoding: \(Self.message(of: &image))") }
        var out = [UInt8](repeating: 0, count: Int(size))
        ok = out.withUnsafeMutableBytes { buffer in
            pixels.withUnsafeBytes { png_image_write_to_memory(&image, buffer.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard ok != 0 else { throw PNGError(message: "encoding: \(Self.message(of: &image))") }
        return Array(out.prefix(Int(size)))
    }

    /// Decodes PNG bytes into 8-bit pixels with the requested channels (libpng converts: an RGB
    /// file read as `.gray` is converted to luminance, a file without alpha read as `.rgba` is opaque).
    public init(decoding bytes: [UInt8], as channels: Channels) throws {
        var image = tessera_png_image()
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw PNGError(message: "decoding: \(Self.message(of: &image))") }
        image.format = channels.format
        let width = Int(image.width), height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * channels.rawValue)
        let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(width * channels.rawValue), nil) }
        guard finished != 0 else {
            let m = Self.message(of: &image)
            png_image_free(&image)
            throw PNGError(message: "decoding: \(m)")
        }
        try self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Writes the PNG file at `path` (atomically: a reader never sees half a file).
    public func write(to path: String) throws {
        do { try Data(encoded()).write(to: URL(fileURLWithPath: path), options: .atomic) } catch let e as PNGError {
            throw PNGError(message: "\(path): \(e.message)")
        } catch { throw PNGError(message: "\(path): \(error.localizedDescription)") }
    }

    /// Reads a PNG file.
    public init(contentsOf path: String, as channels: Channels) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw PNGError(message: "\(path): cannot read the file") }
        do { try self.init(decoding: [UInt8](data), as: channels) } catch let e as PNGError {
            throw PNGError(message: "\(path): \(e.message)")
        }
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            let text = String(decoding: bytes, as: UTF8.self)
            return text.isEmpty ? "libpng failed without a message" : text
        }
    }
}

/// A PNG that could not be encoded, decoded, read or written, with libpng's message.
public struct PNGError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { "PNG: \(message)" }
}
