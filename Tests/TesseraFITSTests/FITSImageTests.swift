import Foundation
@testable import TesseraFITS
import TesseraTestSupport
import XCTest

final class FITSImageTests: XCTestCase {
    /// A deterministic, non-trivial test pattern whose value encodes the pixel position, so a
    /// transposition or off-by-one shows up as a wrong value.
    private func pattern<P: FITSPixel>(width: Int, height: Int, _: P.Type) -> FITSImage<P> {
        var image = FITSImage<P>(shape: [width, height])
        for y in 0..<height {
            for x in 0..<width {
                image[x, y] = P(Double(x) * 1.25 - Double(y) * 1000.5 + 0.1 * Double(x * y % 7))
            }
        }
        return image
    }

    func testImageValueTypeLayoutIsXFastest() {
        let image = FITSImage<Double>(width: 3, height: 2, pixels: [0, 1, 2, 10, 11, 12])
        XCTAssertEqual(image.shape, [3, 2])
        XCTAssertEqual(image.width, 3)
        XCTAssertEqual(image.height, 2)
        XCTAssertEqual(image[2, 0], 2)
        XCTAssertEqual(image[0, 1], 10)
        XCTAssertEqual(image[[1, 1]], 11)
        XCTAssertEqual(image.linearIndex([2, 1]), 5)
        var copy = image
        copy[1, 0] = -1
        XCTAssertEqual(copy.pixels[1], -1)
        XCTAssertEqual(image.converted(to: Float.self).pixels, [0, 1, 2, 10, 11, 12])
    }

    func testFloat32AndFloat64RoundTripInPrimaryAndExtensionsWithHeaderKeywords() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("images.fits")
        let primary = pattern(width: 37, height: 23, Float.self)
        let science = pattern(width: 64, height: 48, Double.self)
        var variance = pattern(width: 5, height: 7, Float.self)
        variance[4, 6] = .nan
        variance[0, 0] = .greatestFiniteMagnitude
        variance[1, 0] = .leastNonzeroMagnitude
        let cube = FITSImage<Double>(shape: [4, 3, 2], pixels: (0..<24).map { Double($0) * 0.5 - 3 })

        do {
            let file = try FITSFile(creatingAt: path)
            XCTAssertEqual(try file.hduCount(), 0)
            XCTAssertEqual(try file.appendImage(primary), 0)
            try file.writeKeyword("OBJECT", .string("M31 field 'A'"), comment: "target name")
            try file.writeKeyword("EXPTIME", .double(123.456), comment: "[s] exposure time")
            try file.writeKeyword("NCOMBINE", .int(-42), comment: "frames combined")
            try file.writeKeyword("CALIBRAT", .bool(true), comment: "calibrated?")
            try file.writeKeyword("DITHERED", .bool(false))
            try file.writeKeyword("GAIN", .double(0.1))
            try file.writeKeyword("TINY", .double(1.234567890123456e-300))
            try file.writeKeyword("BIG", .int(Int(Int64.max)))
            try file.writeKeyword("BLANKVAL", .none, comment: "undefined on purpose")
            try file.writeKeyword("HISTORY", .none, comment: "written by TesseraFITS tests")
            XCTAssertEqual(try file.appendImage(science, extname: "SCI"), 1)
            try file.writeKeyword("BUNIT", .string("nanomaggy"), comment: "pixel unit")
            try file.writeKeyword("SATURATE", .double(-1.5e10), hdu: 1)
            XCTAssertEqual(try file.appendImage(variance, extname: "VAR"), 2)
            XCTAssertEqual(try file.appendImage(cube, extname: "CUBE"), 3)
            try file.close()
            try file.close()  // idempotent
        }

        let file = try FITSFile(path: path)
        defer { try? file.close() }
        XCTAssertEqual(try file.hduCount(), 4)
        XCTAssertEqual(try file.hduType(at: 0), .image)
        XCTAssertEqual(try file.hduType(at: 3), .image)

        // Value-by-value comparison, each type read as itself.
        let readPrimary = try file.readImage(Float.self, hdu: 0)
        XCTAssertEqual(readPrimary.shape, [37, 23])
        for (a, b) in zip(readPrimary.pixels, primary.pixels) { XCTAssertEqual(a.bitPattern, b.bitPattern) }
        XCTAssertEqual(readPrimary[36, 22], primary[36, 22])

        let readScience = try file.readImage(Double.self, hdu: 1)
        XCTAssertEqual(readScience, science)

        let readVariance = try file.readImage(Float.self, hdu: 2)
        XCTAssertEqual(readVariance.shape, [5, 7])
        XCTAssertTrue(readVariance[4, 6].isNaN)
        for i in 0..<(variance.count - 1) { XCTAssertEqual(readVariance.pixels[i], variance.pixels[i]) }

        XCTAssertEqual(try file.readImage(Double.self, hdu: 3), cube)
        XCTAssertEqual(try file.imageShape(hdu: 3), [4, 3, 2])

        // Reading another stored BITPIX converts: Float32 on disk read as Double and vice versa.
        XCTAssertEqual(try file.readImage(Double.self, hdu: 0), primary.converted(to: Double.self))
        XCTAssertEqual(try file.readImage(Float.self, hdu: 1), science.converted(to: Float.self))

        // Moving by EXTNAME.
        let moved = try file.moveToHDU(named: "VAR")
        XCTAssertEqual(moved, FITSHDU(index: 2, type: .image, extname: "VAR"))
        XCTAssertEqual(try file.readImage(Float.self).shape, [5, 7])  // current HDU
        XCTAssertEqual(try file.moveToHDU(named: "sci").index, 1)  // case-insensitive, like CFITSIO
        XCTAssertEqual(try file.currentHDU().extname, "SCI")

        // Header keywords of every type, with comments.
        let header = try file.readHeader(hdu: 0)
        XCTAssertEqual(header.path, path)
        XCTAssertEqual(header.hdu, 0)
        XCTAssertEqual(try header.int("BITPIX"), -32)
        XCTAssertEqual(try header.string("OBJECT"), "M31 field 'A'")
        XCTAssertEqual(header.card("OBJECT")?.comment, "target name")
        XCTAssertEqual(try header.double("EXPTIME"), 123.456)
        XCTAssertEqual(header.card("EXPTIME")?.comment, "[s] exposure time")
        XCTAssertEqual(try header.int("NCOMBINE"), -42)
        XCTAssertEqual(try header.bool("CALIBRAT"), true)
        XCTAssertEqual(try header.bool("DITHERED"), false)
        XCTAssertEqual(try header.double("GAIN"), 0.1)
        XCTAssertEqual(try header.double("TINY"), 1.234567890123456e-300)
        XCTAssertEqual(try header.int("BIG"), Int(Int64.max))
        XCTAssertEqual(header["BLANKVAL"], FITSHeaderValue.none)
        XCTAssertEqual(header.card("BLANKVAL")?.comment, "undefined on purpose")
        XCTAssertTrue(header.cards.contains { $0.key == "HISTORY" && $0.comment == "written by TesseraFITS tests" })

        let scienceHeader = try file.readHeader(hdu: 1)
        XCTAssertEqual(try scienceHeader.string("XTENSION"), "IMAGE")
        XCTAssertEqual(try scienceHeader.string("EXTNAME"), "SCI")
        XCTAssertEqual(try scienceHeader.string("BUNIT"), "nanomaggy")
        XCTAssertEqual(try scienceHeader.double("SATURATE"), -1.5e10)
        XCTAssertEqual(try scienceHeader.int("NAXIS1"), 64)
        XCTAssertEqual(try scienceHeader.int("NAXIS2"), 48)
    }

    func testUpdatingKeywordsAndReplacingImageData() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("update.fits")
        do {
            let file = try FITSFile(creatingAt: path)
            try file.appendImage(FITSImage<Float>(shape: [2, 2], repeating: 1))
            try file.writeKeyword("EXPTIME", .double(10), comment: "[s] exposure")
            try file.close()
        }
        do {
            let file = try FITSFile(path: path, mode: .readWrite)
            try file.writeKeyword("EXPTIME", .double(20.5))  // nil comment keeps the old one
            try file.writeKeyword("exptime", .double(30.25), hdu: 0)  // same keyword, lower case
            XCTAssertTrue(try file.deleteKeyword("NOSUCH") == false)
            let replacement = pattern(width: 10, height: 3, Double.self)
            try file.writeImage(replacement, hdu: 0)
            try file.close()
        }
        let file = try FITSFile(path: path)
        let header = try file.readHeader()
        XCTAssertEqual(try header.double("EXPTIME"), 30.25)
        XCTAssertEqual(header.card("EXPTIME")?.comment, "[s] exposure")
        XCTAssertEqual(header.cards.filter { $0.key == "EXPTIME" }.count, 1)
        XCTAssertEqual(try header.int("BITPIX"), -64)
        XCTAssertEqual(try file.readImage(Double.self), pattern(width: 10, height: 3, Double.self))
    }

    func testOverwriteFlagAndEmptyFileGetsPrimaryOnClose() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("empty.fits")
        try FITSFile(creatingAt: path).close()
        let error = assertThrows(FITSError.self) { _ = try FITSFile(creatingAt: path) }
        XCTAssertEqual(error?.reason, .fileExists)
        XCTAssertTrue(error?.description.contains(path) ?? false)

        let reopened = try FITSFile(path: path)
        XCTAssertEqual(try reopened.hduCount(), 1)
        XCTAssertEqual(try reopened.imageShape(hdu: 0), [])
        let noData = assertThrows(FITSError.self) { _ = try reopened.readImage(Double.self, hdu: 0) }
        XCTAssertEqual(noData?.reason, .wrongHDUType)
        try reopened.close()

        let replaced = try FITSFile(creatingAt: path, overwrite: true)
        try replaced.appendImage(FITSImage<Double>(width: 1, height: 1, pixels: [7]))
        try replaced.close()
        XCTAssertEqual(try FITSFile(path: path).readImage(Double.self).pixels, [7])
    }
}
