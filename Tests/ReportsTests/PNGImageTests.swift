import Foundation
import TesseraPNG
import TesseraTestSupport
import XCTest

/// PNG encoding and decoding through libpng: round trips of every channel layout, the PNG
/// signature, and clear errors for bad sizes and bad bytes.
final class PNGImageTests: XCTestCase {
    func testRoundTripEveryChannelLayout() throws {
        for channels in PNGImage.Channels.allCases {
            let (w, h) = (7, 5)
            let pixels = (0..<(w * h * channels.rawValue)).map { UInt8(($0 * 37 + 11) % 256) }
            let image = try PNGImage(width: w, height: h, channels: channels, pixels: pixels)
            let bytes = try image.encoded()
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
            let back = try PNGImage(decoding: bytes, as: channels)
            XCTAssertEqual(back, image)
        }
    }

    func testFileRoundTripAndConversion() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.url.appendingPathComponent("rgb.png").path
        let rgb = try PNGImage(width: 2, height: 1, channels: .rgb, pixels: [255, 0, 0, 0, 0, 255])
        try rgb.write(to: path)
        XCTAssertEqual(try PNGImage(contentsOf: path, as: .rgb), rgb)
        let rgba = try PNGImage(contentsOf: path, as: .rgba)
        XCTAssertEqual(rgba.pixels, [255, 0, 0, 255, 0, 0, 255, 255])
    }

    func testErrors() {
        XCTAssertThrowsError(try PNGImage(width: 2, height: 2, channels: .rgb, pixels: [0, 1, 2])) { e in
            XCTAssertTrue("\(e)".contains("expected 12"), "\(e)")
        }
        XCTAssertThrowsError(try PNGImage(decoding: [1, 2, 3, 4, 5, 6, 7, 8, 9], as: .rgb)) { e in
            XCTAssertTrue("\(e)".contains("decoding"), "\(e)")
        }
        XCTAssertThrowsError(try PNGImage(contentsOf: "/nonexistent/x.png", as: .gray)) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/x.png"), "\(e)")
        }
    }
}
