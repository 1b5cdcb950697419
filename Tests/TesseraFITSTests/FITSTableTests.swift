import Foundation
@testable import TesseraFITS
import TesseraTestSupport
import XCTest

final class FITSTableTests: XCTestCase {
    private let ra: [Double] = [150.1, 150.2000000000001, -0.0, 359.99999999, .nan]
    private let mag: [Float] = [21.5, 19.25, .infinity, -1e-30, 0]
    private let ids32: [Int32] = [1, -2, .max, .min, 0]
    private let ids64: [Int64] = [1, -2, .max, .min, 1 << 40]
    private let flags: [Bool] = [true, false, false, true, true]
    private let names: [String] = ["star 1", "", "galaxy 'NGC 1300'", "  leading", "QSO"]
    private let flux: [[Double]] = (0..<5).map { row in (0..<4).map { Double(row) * 10 + Double($0) + 0.125 } }

    private var columns: [FITSColumn] {
        [
            .double("RA", ra, unit: "deg"),
            .float("MAG_R", mag, unit: "mag"),
            .int32("ID32", ids32),
            .int64("OBJID", ids64),
            .bool("IS_STAR", flags),
            .string("NAME", names),
            .doubleVector("FLUX", rows: flux, unit: "nanomaggy"),
        ]
    }

    func testRoundTripOfEveryColumnType() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("catalog.fits")
        do {
            let file = try FITSFile(creatingAt: path)
            // A table in an empty file gets an empty primary HDU first.
            XCTAssertEqual(try file.appendTable(columns, extname: "CATALOG"), 1)
            XCTAssertEqual(try file.appendTable([.double("X", [])]), 2)  // zero rows
            try file.close()
        }

        let file = try FITSFile(path: path)
        defer { try? file.close() }
        XCTAssertEqual(try file.hduCount(), 3)
        XCTAssertEqual(try file.hduType(at: 0), .image)
        XCTAssertEqual(try file.moveToHDU(named: "CATALOG"), FITSHDU(index: 1, type: .binaryTable, extname: "CATALOG"))
        XCTAssertEqual(try file.rowCount(), 5)
        XCTAssertEqual(try file.columnNames(), ["RA", "MAG_R", "ID32", "OBJID", "IS_STAR", "NAME", "FLUX"])
        let infos = try file.columns(hdu: 1)
        XCTAssertEqual(infos.map(\.tform), ["1D", "1E", "1J", "1K", "1L", "17A", "4D"])
        XCTAssertEqual(infos.map(\.type), [.double, .float, .int32, .int64, .bool, .string, .doubleVector])
        XCTAssertEqual(infos.map(\.unit), ["deg", "mag", nil, nil, nil, nil, "nanomaggy"])
        XCTAssertEqual(infos[6].repeatCount, 4)

        let readRA = try file.readColumn("RA", as: Double.self, hdu: 1)
        XCTAssertEqual(readRA.count, ra.count)
        for (a, b) in zip(readRA, ra) { XCTAssertEqual(a.bitPattern, b.bitPattern) }
        XCTAssertEqual(try file.readColumn("MAG_R", as: Float.self), mag)
        XCTAssertEqual(try file.readColumn("ID32", as: Int32.self), ids32)
        XCTAssertEqual(try file.readColumn("OBJID", as: Int64.self), ids64)
        XCTAssertEqual(try file.readColumn("IS_STAR", as: Bool.self), flags)
        XCTAssertEqual(try file.readColumn("NAME", as: String.self), names)
        XCTAssertEqual(try file.readColumn("name", as: String.self), names)  // case-insensitive fallback
        XCTAssertEqual(try file.readVectorColumn("FLUX"), flux)

        // The untyped reader returns the stored type and unit.
        let fluxColumn = try file.readColumn("FLUX")
        XCTAssertEqual(fluxColumn, .doubleVector("FLUX", rows: flux, unit: "nanomaggy"))
        XCTAssertEqual(fluxColumn.rowCount, 5)
        XCTAssertEqual(try file.readColumn("ID32"), .int32("ID32", ids32))

        XCTAssertEqual(try file.rowCount(hdu: 2), 0)
        XCTAssertEqual(try file.readColumn("X", as: Double.self, hdu: 2), [])

        let header = try file.readHeader(hdu: 1)
        XCTAssertEqual(try header.string("EXTNAME"), "CATALOG")
        XCTAssertEqual(try header.string("TUNIT1"), "deg")
    }

    func testMissingColumnAndWrongTypeNameFileHDUAndColumn() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory.path("catalog.fits")
        let file = try FITSFile(creatingAt: path)
        defer { try? file.close() }
        try file.appendTable(columns, extname: "CATALOG")

        let missing = assertThrows(FITSError.self) { _ = try file.readColumn("DEC", as: Double.self, hdu: 1) }
        XCTAssertEqual(missing?.reason, .missingColumn)
        XCTAssertEqual(missing?.column, "DEC")
        XCTAssertEqual(missing?.hdu, 1)
        let text = missing?.description ?? ""
        XCTAssertTrue(text.contains(path) && text.contains("HDU 1") && text.contains("'DEC'"), text)

        let wrong = assertThrows(FITSError.self) { _ = try file.readColumn("MAG_R", as: Double.self, hdu: 1) }
        XCTAssertEqual(wrong?.reason, .wrongColumnType)
        XCTAssertEqual(wrong?.column, "MAG_R")
        XCTAssertTrue(wrong?.description.contains("1E") ?? false, wrong?.description ?? "")
        XCTAssertEqual(assertThrows(FITSError.self) { _ = try file.readColumn("FLUX", as: Double.self) }?.reason, .wrongColumnType)
        XCTAssertEqual(assertThrows(FITSError.self) { _ = try file.readVectorColumn("NAME") }?.reason, .wrongColumnType)

        let image = assertThrows(FITSError.self) { _ = try file.readColumn("RA", as: Double.self, hdu: 0) }
        XCTAssertEqual(image?.reason, .wrongHDUType)
        let table = assertThrows(FITSError.self) { _ = try file.readImage(Double.self, hdu: 1) }
        XCTAssertEqual(table?.reason, .wrongHDUType)
        XCTAssertTrue(table?.description.contains("binaryTable") ?? false)
        let noHDU = assertThrows(FITSError.self) { _ = try file.readColumn("RA", as: Double.self, hdu: 7) }
        XCTAssertEqual(noHDU?.reason, .noSuchHDU)
        XCTAssertEqual(noHDU?.hdu, 7)
        XCTAssertEqual(assertThrows(FITSError.self) { try file.moveToHDU(named: "NOPE") }?.reason, .noSuchHDU)
    }

    func testInvalidTablesAreRefused() throws {
        let directory = try makeTemporaryDirectory()
        let file = try FITSFile(creatingAt: directory.path("bad.fits"))
        defer { try? file.close() }
        XCTAssertEqual(assertThrows(FITSError.self) { try file.appendTable([]) }?.reason, .invalidArgument)
        XCTAssertEqual(assertThrows(FITSError.self) { try file.appendTable([.double("A", [1]), .double("a", [2])]) }?.reason,
                       .invalidArgument)
        let rows = assertThrows(FITSError.self) { try file.appendTable([.double("A", [1]), .int32("B", [1, 2])]) }
        XCTAssertEqual(rows?.reason, .invalidArgument)
        XCTAssertEqual(rows?.column, "B")
        XCTAssertEqual(assertThrows(FITSError.self) { try file.appendTable([.string("S", ["é"])]) }?.reason, .invalidArgument)
        XCTAssertEqual(try file.hduCount(), 0)  // nothing half-written
    }
}
