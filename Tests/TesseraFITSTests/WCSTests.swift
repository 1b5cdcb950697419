import Astrometry
import Foundation
@testable import TesseraFITS
import TesseraTestSupport
import XCTest

/// The fixture written by Fixtures/make_wcs_fixture.py (astropy/wcslib results).
private struct WCSFixture: Decodable {
    /// A header value: string, integer or real, as JSON holds it.
    enum Scalar: Decodable {
        case string(String)
        case int(Int)
        case double(Double)

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let s = try? container.decode(String.self) {
                self = .string(s)
            } else if let i = try? container.decode(Int.self) {
                self = .int(i)
            } else {
                self = .double(try container.decode(Double.self))
            }
        }
    }

    struct Case: Decodable {
        let name: String
        let header: [[Scalar]]
        /// Rows [x, y, ra, dec]: astropy wcs_pix2world(x, y, 0).
        let pixel_to_sky: [[Double]]
        /// Rows [ra, dec, x, y]: astropy wcs_world2pix(ra, dec, 0).
        let sky_to_pixel: [[Double]]

        var fitsHeader: FITSHeader {
            var cards: [FITSHeader.Card] = []
            for entry in header {
                guard case let .string(key) = entry[0] else { continue }
                let value: FITSHeaderValue
                switch entry[1] {
                case let .string(s): value = .string(s)
                case let .int(i): value = .int(i)
                case let .double(d): value = .double(d)
                }
                cards.append(.init(key: key, value: value))
            }
            return FITSHeader(cards: cards, path: "wcs_fixture.json[\(name)]")
        }
    }

    let astropy_version: String
    let cases: [Case]

    static func load() throws -> WCSFixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "wcs_fixture", withExtension: "json",
                                                  subdirectory: "Fixtures"),
                                "Fixtures/wcs_fixture.json missing from the test bundle")
        return try JSONDecoder().decode(WCSFixture.self, from: Data(contentsOf: url))
    }
}

/// Difference of two right ascensions in degrees, taking the 0/360 wrap into account.
private func raDifference(_ a: Double, _ b: Double) -> Double {
    var d = (a - b).truncatingRemainder(dividingBy: 360)
    if d > 180 { d -= 360 }
    if d < -180 { d += 360 }
    return d
}

final class WCSTests: XCTestCase {
    func testFixtureCoversTheRequiredSetups() throws {
        let fixture = try WCSFixture.load()
        let names = Set(fixture.cases.map(\.name))
        for required in ["rotated_flipped_cd", "cdelt_pc", "cdelt_crota2", "near_dec_plus80_wide", "ra_wrap_0_360",
                         "negative_dec_rotated"] {
            XCTAssertTrue(names.contains(required), required)
        }
        XCTAssertGreaterThan(fixture.cases.reduce(0) { $0 + $1.pixel_to_sky.count + $1.sky_to_pixel.count }, 500)
    }

    func testSkyToPixelMatchesAstropy() throws {
        for testCase in try WCSFixture.load().cases {
            let wcs = try WCS(header: testCase.fitsHeader)
            var worst = 0.0
            for row in testCase.sky_to_pixel {
                let (x, y) = wcs.skyToPixel(ra: row[0], dec: row[1])
                worst = max(worst, abs(x - row[2]), abs(y - row[3]))
            }
            XCTAssertLessThan(worst, 1e-8, "\(testCase.name): worst sky→pixel error \(worst) pixel")
        }
    }

    func testPixelToSkyMatchesAstropy() throws {
        for testCase in try WCSFixture.load().cases {
            let wcs = try WCS(header: testCase.fitsHeader)
            var worst = 0.0
            for row in testCase.pixel_to_sky {
                let (ra, dec) = wcs.pixelToSky(x: row[0], y: row[1])
                XCTAssertTrue(ra >= 0 && ra < 360, "\(testCase.name): RA \(ra) not in [0, 360)")
                worst = max(worst, abs(raDifference(ra, row[2])), abs(dec - row[3]))
            }
            XCTAssertLessThan(worst, 1e-10, "\(testCase.name): worst pixel→sky error \(worst) deg")
        }
    }

    func testRoundTrips() throws {
        for testCase in try WCSFixture.load().cases {
            let wcs = try WCS(header: testCase.fitsHeader)
            for row in testCase.pixel_to_sky {
                let sky = wcs.pixelToSky(x: row[0], y: row[1])
                let back = wcs.skyToPixel(ra: sky.ra, dec: sky.dec)
                XCTAssertEqual(back.x, row[0], accuracy: 1e-8, testCase.name)
                XCTAssertEqual(back.y, row[1], accuracy: 1e-8, testCase.name)
            }
            for row in testCase.sky_to_pixel {
                let pixel = wcs.skyToPixel(ra: row[0], dec: row[1])
                let back = wcs.pixelToSky(x: pixel.x, y: pixel.y)
                XCTAssertLessThan(abs(raDifference(back.ra, row[0])), 1e-10, testCase.name)
                XCTAssertEqual(back.dec, row[1], accuracy: 1e-10, testCase.name)
            }
        }
    }

    func testCROTA2AndPCMatchTheEquivalentCDMatrix() throws {
        let rho = 37.5 * Double.pi / 180
        let (c1, c2) = (-2.5e-4, 3e-4)
        var base = FITSHeader(cards: [
            .init(key: "CTYPE1", value: .string("RA---TAN")), .init(key: "CTYPE2", value: .string("DEC--TAN")),
            .init(key: "CRVAL1", value: .double(201.3)), .init(key: "CRVAL2", value: .double(-43)),
            .init(key: "CRPIX1", value: .int(1200)), .init(key: "CRPIX2", value: .double(800.5)),
            .init(key: "CDELT1", value: .double(c1)), .init(key: "CDELT2", value: .double(c2)),
        ])
        base.set("CROTA2", .double(37.5))
        let fromCROTA = try WCS(header: base)
        let explicit = try WCS(crval1: 201.3, crval2: -43, crpix1: 1200, crpix2: 800.5,
                               cd11: c1 * cos(rho), cd12: -c2 * sin(rho), cd21: c1 * sin(rho), cd22: c2 * cos(rho))
        XCTAssertEqual(fromCROTA, explicit)

        base.remove("CROTA2")
        base.set("PC1_2", .double(0.25))
        let fromPC = try WCS(header: base)
        XCTAssertEqual(fromPC.cd11, c1)
        XCTAssertEqual(fromPC.cd12, c1 * 0.25)
        XCTAssertEqual(fromPC.cd21, 0)
        XCTAssertEqual(fromPC.cd22, c2)
    }

    func testUnsupportedHeadersNameTheKeyword() throws {
        let fixture = try WCSFixture.load()
        let good = try XCTUnwrap(fixture.cases.first { $0.name == "north_up_east_left" }).fitsHeader

        func expectUnsupported(_ edit: (inout FITSHeader) -> Void, keyword: String, reason: FITSError.Reason = .unsupportedWCS,
                               line: UInt = #line) {
            var header = good
            header.path = "/data/field.fits"
            header.hdu = 2
            edit(&header)
            let error = assertThrows(FITSError.self, line: line) { _ = try WCS(header: header) }
            XCTAssertEqual(error?.reason, reason, line: line)
            XCTAssertEqual(error?.keyword, keyword, line: line)
            let text = error?.description ?? ""
            XCTAssertTrue(text.contains("/data/field.fits") && text.contains("HDU 2") && text.contains(keyword),
                          text, line: line)
        }
        expectUnsupported({ $0.set("CTYPE1", .string("RA---TAN-SIP")) }, keyword: "CTYPE1")
        expectUnsupported({ $0.set("CTYPE2", .string("DEC--SIN")) }, keyword: "CTYPE2")
        expectUnsupported({ $0.set("CTYPE1", .string("GLON-TAN")) }, keyword: "CTYPE1")
        expectUnsupported({ $0.set("A_ORDER", .int(3)) }, keyword: "A_ORDER")
        expectUnsupported({ $0.set("PV2_1", .double(0.1)) }, keyword: "PV2_1")
        expectUnsupported({ $0.set("LONPOLE", .double(0)) }, keyword: "LONPOLE")
        expectUnsupported({ $0.set("CUNIT1", .string("rad")) }, keyword: "CUNIT1")
        expectUnsupported({ $0.set("PC1_1", .double(1)) }, keyword: "PC1_1")
        expectUnsupported({ $0.set("CRVAL2", .double(90)) }, keyword: "CRVAL2")
        expectUnsupported({ $0.remove("CRVAL1") }, keyword: "CRVAL1", reason: .missingKeyword)
        expectUnsupported({ $0.set("CRPIX1", .string("1024")) }, keyword: "CRPIX1", reason: .wrongKeywordType)
        expectUnsupported({ header in for k in ["CD1_1", "CD1_2", "CD2_1", "CD2_2"] { header.remove(k) } },
                          keyword: "CDELT1", reason: .missingKeyword)
        expectUnsupported({ $0.set("CD2_2", .double(0)) }, keyword: "CD1_1")  // singular

        var lonpole180 = good
        lonpole180.set("LONPOLE", .double(180))
        lonpole180.set("PV2_1", .double(0))
        XCTAssertEqual(try WCS(header: lonpole180), try WCS(header: good))
    }

    /// Writing the WCS into a real FITS header and reading it back gives the identical WCS
    /// (header reals round-trip exactly), and replaces a contradictory CDELT/PC description.
    func testWCSThroughAFITSFile() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("wcs.fits")
        let fixture = try WCSFixture.load()
        let file = try FITSFile(creatingAt: path)
        defer { try? file.close() }
        for (index, testCase) in fixture.cases.enumerated() {
            try file.appendImage(FITSImage<Float>(shape: [4, 4]), extname: "CASE\(index)")
            try file.writeKeywords(testCase.fitsHeader.cards)
            let fromFile = try WCS(header: try file.readHeader())
            XCTAssertEqual(fromFile, try WCS(header: testCase.fitsHeader), testCase.name)
        }
        let cdelt = try WCS(header: try XCTUnwrap(fixture.cases.first { $0.name == "cdelt_pc" }).fitsHeader)
        let hdu = try file.moveToHDU(named: "CASE3").index
        XCTAssertTrue(try file.readHeader().contains("PC1_1"))
        let replacement = try WCS(crval1: 1, crval2: 2, crpix1: 3, crpix2: 4, cd11: 1e-4, cd12: 0, cd21: 0, cd22: 1e-4)
        try file.writeWCS(replacement, hdu: hdu)
        let header = try file.readHeader(hdu: hdu)
        XCTAssertFalse(header.contains("PC1_1") || header.contains("CDELT1"))
        XCTAssertEqual(try WCS(header: header), replacement)
        XCTAssertNotEqual(replacement, cdelt)

        var memory = FITSHeader(cards: [.init(key: "CDELT1", value: .double(1))])
        replacement.write(into: &memory)
        XCTAssertFalse(memory.contains("CDELT1"))
        XCTAssertEqual(try WCS(header: memory), replacement)
        XCTAssertEqual(replacement.pixelScale, 0.36, accuracy: 1e-12)
    }
}
