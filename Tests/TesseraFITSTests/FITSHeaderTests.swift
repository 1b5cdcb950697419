import Foundation
@testable import TesseraFITS
import TesseraTestSupport
import XCTest

final class FITSHeaderTests: XCTestCase {
    private func sampleFile() throws -> (FITSFile, String) {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("header.fits")
        let file = try FITSFile(creatingAt: path)
        try file.appendImage(FITSImage<Float>(shape: [3, 3]))
        try file.appendImage(FITSImage<Float>(shape: [3, 3]), extname: "SCI")
        try file.writeKeyword("CRVAL1", .double(150.25), comment: "[deg]", hdu: 1)
        try file.writeKeyword("OBJECT", .string("NGC 1300"), hdu: 1)
        try file.writeKeyword("NEXP", .int(3), hdu: 1)
        try file.writeKeyword("FLAT", .bool(true), hdu: 1)
        return (file, path)
    }

    func testTypedGettersNameFileHDUAndKeyword() throws {
        let (file, path) = try sampleFile()
        defer { try? file.close() }
        let header = try file.readHeader(hdu: 1)

        XCTAssertEqual(try header.double("crval1"), 150.25)
        XCTAssertEqual(try header.double("NEXP"), 3)  // integers are valid reals
        XCTAssertNil(try header.double(ifPresent: "CRVAL2"))
        XCTAssertEqual(try header.string(ifPresent: "OBJECT"), "NGC 1300")

        let missing = assertThrows(FITSError.self) { _ = try header.double("CRVAL2") }
        XCTAssertEqual(missing?.reason, .missingKeyword)
        XCTAssertEqual(missing?.keyword, "CRVAL2")
        XCTAssertEqual(missing?.hdu, 1)
        XCTAssertEqual(missing?.path, path)
        let text = missing?.description ?? ""
        XCTAssertTrue(text.contains(path) && text.contains("HDU 1") && text.contains("CRVAL2"), text)

        let wrongType = assertThrows(FITSError.self) { _ = try header.int("OBJECT") }
        XCTAssertEqual(wrongType?.reason, .wrongKeywordType)
        XCTAssertTrue(wrongType?.description.contains("OBJECT") ?? false)
        XCTAssertTrue(wrongType?.description.contains("string") ?? false)
        XCTAssertEqual(assertThrows(FITSError.self) { _ = try header.int("CRVAL1") }?.reason, .wrongKeywordType)
        XCTAssertEqual(assertThrows(FITSError.self) { _ = try header.bool("NEXP") }?.reason, .wrongKeywordType)
        XCTAssertEqual(assertThrows(FITSError.self) { _ = try header.string("FLAT") }?.reason, .wrongKeywordType)
        XCTAssertEqual(assertThrows(FITSError.self) { _ = try header.string(ifPresent: "NEXP") }?.reason, .wrongKeywordType)
    }

    func testRealsRoundTripExactly() throws {
        let (file, _) = try sampleFile()
        defer { try? file.close() }
        let values: [Double] = [0.1, 1.0 / 3.0, .pi, -2.5e-17, 6.02214076e23, 1e300, -0.0, 100,
                                Double.leastNormalMagnitude, 123456789.123456789]
        for (i, value) in values.enumerated() {
            try file.writeKeyword("R\(i)", .double(value), comment: "value \(i)", hdu: 0)
        }
        let header = try file.readHeader(hdu: 0)
        for (i, value) in values.enumerated() {
            XCTAssertEqual(header["R\(i)"], .double(value), "R\(i)")
        }
    }

    func testRejectedKeywordWrites() throws {
        let (file, path) = try sampleFile()
        defer { try? file.close() }
        let structural = assertThrows(FITSError.self) { try file.writeKeyword("NAXIS1", .int(5)) }
        XCTAssertEqual(structural?.reason, .invalidArgument)
        XCTAssertEqual(structural?.keyword, "NAXIS1")
        XCTAssertTrue(structural?.description.contains(path) ?? false)
        XCTAssertEqual(assertThrows(FITSError.self) { try file.writeKeyword("TOOLONGNAME", .int(1)) }?.reason, .invalidArgument)
        XCTAssertEqual(assertThrows(FITSError.self) { try file.writeKeyword("BAD KEY", .int(1)) }?.reason, .invalidArgument)
        XCTAssertEqual(assertThrows(FITSError.self) { try file.writeKeyword("NANVAL", .double(.nan)) }?.reason, .invalidArgument)
        XCTAssertEqual(assertThrows(FITSError.self) { try file.writeKeyword("UNICODE", .string("Größe")) }?.reason, .invalidArgument)
        let long = String(repeating: "x", count: 69)
        XCTAssertEqual(assertThrows(FITSError.self) { try file.writeKeyword("LONG", .string(long)) }?.reason, .invalidArgument)
        try file.writeKeyword("MAXLEN", .string(String(long.dropFirst())))
        XCTAssertEqual(try file.readHeader().string("MAXLEN"), String(long.dropFirst()))
    }

    func testReadOnlyFileRefusesWrites() throws {
        let (file, path) = try sampleFile()
        try file.close()
        let readOnly = try FITSFile(path: path)
        let error = assertThrows(FITSError.self) { try readOnly.writeKeyword("NEW", .int(1)) }
        XCTAssertEqual(error?.reason, .invalidArgument)
        XCTAssertTrue(error?.description.contains("read-only") ?? false)
        try readOnly.close()
        let closed = assertThrows(FITSError.self) { _ = try readOnly.readHeader() }
        XCTAssertEqual(closed?.reason, .fileClosed)
        XCTAssertTrue(closed?.description.contains(path) ?? false)
    }

    func testInMemoryHeaderEditingAndParsing() {
        var header = FITSHeader(cards: [.init(key: "a", value: .int(1), comment: "first")])
        XCTAssertEqual(header.cards[0].key, "A")
        header.set("A", .int(2))
        XCTAssertEqual(header.card("A"), .init(key: "A", value: .int(2), comment: "first"))
        header.set("B", .string("x"), comment: "new")
        header.remove("A")
        XCTAssertEqual(header.cards.map(\.key), ["B"])
        XCTAssertTrue(FITSHeader.Card(key: "TFORM12", value: .string("1D")).isStructural)
        XCTAssertFalse(FITSHeader.Card(key: "TFORMAT", value: .string("x")).isStructural)
        XCTAssertTrue(FITSHeader.Card(key: "COMMENT", value: .none, comment: "hi").isCommentary)

        XCTAssertEqual(FITSFile.parseValue("'O''Brien  '"), .string("O'Brien"))
        XCTAssertEqual(FITSFile.parseValue("''"), .string(""))
        XCTAssertEqual(FITSFile.parseValue("T"), .bool(true))
        XCTAssertEqual(FITSFile.parseValue("+17"), .int(17))
        XCTAssertEqual(FITSFile.parseValue("1.5D+02"), .double(150))
        XCTAssertEqual(FITSFile.parseValue("1E-05"), .double(1e-5))
        XCTAssertEqual(FITSFile.parseValue(""), FITSHeaderValue.none)
        XCTAssertEqual(FITSFile.parseValue("(1.0, 2.0)"), .string("(1.0, 2.0)"))
    }
}
