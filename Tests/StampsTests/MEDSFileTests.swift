import Foundation
import MEDSIO
import Stamps
import TesseraFITS
import TesseraTestSupport
import XCTest

/// The MEDS reader against files written by python `fitsio` (scripts/make_meds_fixture.py), the
/// writer against the reader, and bad files against clear errors.
final class MEDSFileTests: XCTestCase {
    /// Foundation's JSON parser may round the last bit of a double, so values from the JSON
    /// sidecar are compared to 1e-13 relative (far below any layout or type error).
    private func close(_ a: Double, _ b: Any, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
        let b = (b as! NSNumber).doubleValue
        XCTAssertEqual(a, b, accuracy: 1e-13 * max(1, abs(b)), message, file: file, line: line)
    }

    private func fixture(_ name: String) -> String {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!.path
    }

    /// Every object_data value, every cutout's sums and one off-diagonal pixel, and every PSF, as
    /// fitsio/numpy computed them, for the plain and the tile-compressed file.
    func testReadsFilesWrittenByFitsio() throws {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture("fitsio-meds.json")))) as! [String: Any]
        let objects = json["objects"] as! [[String: Any]]
        for name in ["fitsio-meds.fits", "fitsio-meds-compressed.fits"] {
            let meds = try MEDSFile(path: fixture(name))
            XCTAssertEqual(meds.objectCount, objects.count)
            XCTAssertEqual(meds.imageInfo.first { $0.name == "image_path" }?.data, .string(json["image_paths"] as! [String]))
            for (i, o) in objects.enumerated() {
                let info = try meds.object(i)
                XCTAssertEqual(info.id, (o["id"] as! NSNumber).int64Value)
                XCTAssertEqual(info.number, (o["number"] as! NSNumber).int64Value)
                XCTAssertEqual(info.boxSize, o["box_size"] as! Int)
                XCTAssertEqual(info.epochCount, o["ncutout"] as! Int)
                close(info.ra, o["ra"]!)
                let epochs = try meds.epochs(ofObject: i)
                let box = info.boxSize
                for (c, cut) in (o["cutouts"] as! [[String: Any]]).enumerated() {
                    let e = epochs[c]
                    XCTAssertEqual(e.fileID, cut["file_id"] as! Int)
                    let j = e.jacobian
                    for (value, key) in [(j.row0, "cutout_row"), (j.col0, "cutout_col"), (j.dudrow, "dudrow"), (j.dudcol, "dudcol"),
                                         (j.dvdrow, "dvdrow"), (j.dvdcol, "dvdcol")] {
                        close(value, cut[key]!, "\(name) \(i) \(c) \(key)")
                    }
                    close(meds.field("orig_row", object: i, cutout: c), cut["orig_row"]!)
                    XCTAssertEqual(meds.origStartCols[i * meds.maxCutouts + c], (cut["orig_start_col"] as! NSNumber).int64Value)
                    func check<T: BinaryInteger>(_ values: [T], _ key: String) {
                        XCTAssertEqual(values.reduce(0.0) { $0 + Double($1) }, cut[key + "_sum"] as! Double, accuracy: 1e-9, "\(name) \(i) \(c) \(key)")
                        XCTAssertEqual(Double(values[1 * box + 2]), cut[key + "_r1c2"] as! Double, "\(name) \(i) \(c) \(key)")
                    }
                    func check(_ values: [Float], _ key: String, stride: Int) {
                        close(values.reduce(0.0) { $0 + Double($1) }, cut[key + "_sum"]!, "\(name) \(i) \(c) \(key)")
                        close(Double(values[1 * stride + 2]), cut[key + "_r1c2"]!, "\(name) \(i) \(c) \(key)")
                    }
                    check(e.image, "image", stride: box)
                    check(e.weight, "weight", stride: box)
                    check(e.seg!, "seg")
                    check(e.bmask!, "bmask")
                    let psf = try XCTUnwrap(e.psf)
                    XCTAssertEqual(psf.rows, cut["psf_rows"] as! Int)
                    XCTAssertEqual(psf.cols, cut["psf_cols"] as! Int)
                    close(psf.centerRow, cut["psf_cutout_row"]!)
                    check(psf.pixels, "psf", stride: psf.cols)
                }
            }
            try meds.close()
        }
    }

    private func smallMock() throws -> MockStampTile {
        var settings = MockTileSettings()
        settings.objectCount = 6
        settings.epochCount = 2
        settings.boxSize = 16
        settings.psfBoxSize = 9
        settings.blendedFraction = 0.5
        return try MockStampTile.make(settings)
    }

    func testMockTileRoundTripsThroughPlainAndCompressedFiles() throws {
        let dir = try makeTemporaryDirectory(prefix: "meds")
        let mock = try smallMock()
        for compression in [nil, FITSCompression.losslessGzip] {
            let path = dir.path(compression == nil ? "plain.fits" : "packed.fits")
            try MEDSWriter.write(MEDSContents(mock: mock), to: path, compression: compression)
            let meds = try MEDSFile(path: path)
            XCTAssertEqual(meds.objectCount, mock.objects.count)
            for i in mock.objects.indices {
                XCTAssertEqual(try meds.epochs(ofObject: i), mock.stamps[i])
                XCTAssertEqual(try meds.object(i).id, mock.objects[i].id)
                XCTAssertEqual(meds.origStartRows[i * meds.maxCutouts + 1], Int64(mock.footprints[i][1].rowStart))
            }
            try meds.close()
        }
        // Refuses to overwrite a finished file.
        XCTAssertThrowsError(try MEDSWriter.write(MEDSContents(mock: mock), to: dir.path("plain.fits")))
    }

    func testGroupTablesAreReproducibleAndMatchTheBlends() throws {
        let dir = try makeTemporaryDirectory(prefix: "meds-groups")
        let mock = try smallMock()
        let path = dir.path("tile.fits")
        try MEDSWriter.write(MEDSContents(mock: mock), to: path)
        let meds = try MEDSFile(path: path)
        for method in MEDSGroups.Method.allCases {
            let list = try MEDSGroups.neighbours(of: meds, method: method, buffer: 2)
            let fof = FriendsOfFriends(list)
            for i in mock.objects.indices {
                for j in mock.objects.indices where i < j && mock.objects[i].truthGroup != mock.objects[j].truthGroup {
                    XCTAssertNotEqual(fof.groupOf[i], fof.groupOf[j], "\(method): \(i) and \(j) are in different blends")
                }
            }
            if method == .stamps {
                XCTAssertEqual(Set(mock.objects.indices.map { fof.groupOf[$0] }).count, Set(mock.objects.map(\.truthGroup)).count)
            }
            let (a, b) = (dir.path("fofs-\(method)-1.fits"), dir.path("fofs-\(method)-2.fits"))
            try MEDSGroups.writeGroupTable(fof, numbers: meds.numbers, to: a)
            try MEDSGroups.writeGroupTable(FriendsOfFriends(try MEDSGroups.neighbours(of: meds, method: method, buffer: 2)), numbers: meds.numbers, to: b)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
            let rows = try MEDSGroups.readGroupTable(a)
            XCTAssertEqual(rows.map(\.number).sorted(), meds.numbers.sorted())
            try MEDSGroups.writeNeighbourTable(list, numbers: meds.numbers, to: dir.path("nbrs-\(method).fits"))
            let nbrs = try FITSFile(path: dir.path("nbrs-\(method).fits"))
            XCTAssertEqual(try nbrs.readIntegerColumn("nbr_number", hdu: 1).values.count, list.rows.count)
            try nbrs.close()
        }
    }

    // MARK: Bad input

    /// A minimal MEDS file written field by field, so that each test can break one thing.
    private func writeMinimal(_ path: String, ncutout: Int64 = 1, arrayLength: Int = 32) throws {
        let fits = try FITSFile(creatingAt: path)
        var columns: [FITSColumn] = [
            .int64("id", [7, 8]), .int64("box_size", [4, 4]), .double("ra", [1, 2]), .double("dec", [3, 4]),
            .int64("ncutout", [1, ncutout]), .int64Vector("file_id", values: [0, 0], width: 1),
            .int64Vector("start_row", values: [0, 16], width: 1),
            .int64Vector("orig_start_row", values: [0, 0], width: 1), .int64Vector("orig_start_col", values: [0, 10], width: 1),
        ]
        for name in MEDSFile.realFields { columns.append(.doubleVector(name, values: [1, 1], width: 1)) }
        try fits.appendTable(columns, extname: "object_data")
        try fits.appendTable([.string("image_path", ["a.fits"])], extname: "image_info")
        try fits.appendArray([Float](repeating: 1, count: arrayLength), extname: "image_cutouts")
        try fits.appendArray([Float](repeating: 1, count: arrayLength), extname: "weight_cutouts")
        try fits.close()
    }

    func testMinimalFileIsReadable() throws {
        let dir = try makeTemporaryDirectory(prefix: "meds-bad")
        try writeMinimal(dir.path("ok.fits"))
        XCTAssertEqual(try MEDSFile(path: dir.path("ok.fits")).epochs(ofObject: 1).count, 1)
    }

    func testObjectWithoutCutoutsIsNamed() throws {
        let dir = try makeTemporaryDirectory(prefix: "meds-bad")
        try writeMinimal(dir.path("zero.fits"), ncutout: 0)
        let error = assertThrows(MEDSError.self) { try MEDSFile(path: dir.path("zero.fits")) }
        XCTAssertEqual(error?.field, "ncutout")
        XCTAssertEqual(error?.object, 1)
        XCTAssertTrue(error?.description.contains("zero.fits") ?? false)
        XCTAssertTrue(error?.description.contains("id 8") ?? false, error?.description ?? "")
    }

    func testShortCutoutArrayIsNamed() throws {
        let dir = try makeTemporaryDirectory(prefix: "meds-bad")
        try writeMinimal(dir.path("short.fits"), arrayLength: 20)  // object 1 needs elements 16..<32
        let error = assertThrows(MEDSError.self) { try MEDSFile(path: dir.path("short.fits")) }
        XCTAssertEqual(error?.hdu, "image_cutouts")
        XCTAssertEqual(error?.field, "start_row")
        XCTAssertEqual(error?.object, 1)
    }

    func testTruncatedFileIsNamed() throws {
        let dir = try makeTemporaryDirectory(prefix: "meds-bad")
        let path = dir.path("cut.fits")
        try writeMinimal(path, arrayLength: 2000)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 4000).write(to: URL(fileURLWithPath: path))  // inside weight_cutouts' data
        let error = assertThrows(MEDSError.self) { try MEDSFile(path: path) }
        XCTAssertEqual(error?.hdu, "weight_cutouts")
        XCTAssertTrue(error?.description.contains("truncated") ?? false, error?.description ?? "")
    }

    func testMissingFileAndMissingHDUAreNamed() throws {
        let dir = try makeTemporaryDirectory(prefix: "meds-bad")
        let missing = assertThrows(MEDSError.self) { try MEDSFile(path: dir.path("nope.fits")) }
        XCTAssertTrue(missing?.description.contains("nope.fits: no such file") ?? false, missing?.description ?? "")
        let fits = try FITSFile(creatingAt: dir.path("tables-only.fits"))
        try fits.appendTable([.int64("id", [1])], extname: "object_data")
        try fits.close()
        let noInfo = assertThrows(MEDSError.self) { try MEDSFile(path: dir.path("tables-only.fits")) }
        XCTAssertEqual(noInfo?.hdu, "image_info")
    }
}
