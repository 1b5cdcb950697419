import Foundation
import XCTest
import TesseraMPI
@testable import TesseraHDF5

final class HDF5RoundTripTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("h5-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testNumericDatasetsOfEveryKind() throws {
        let file = try HDF5File.create(path("kinds.h5"))
        let doubles = (0..<24).map { Double($0) * 0.5 - 3 }
        try file.write(doubles, shape: [2, 3, 4], to: "/grid/doubles")
        try file.write((0..<6).map { Float($0) / 3 }, shape: [2, 3], to: "floats")
        try file.write([Int32.min, -1, 0, Int32.max], to: "/ints/i32")
        try file.write([Int64.min, 0, Int64.max], to: "/ints/i64")
        try file.close()

        let reopened = try HDF5File.open(path("kinds.h5"))
        let d = try reopened.read(Double.self, from: "/grid/doubles")
        XCTAssertEqual(d.shape, [2, 3, 4])
        XCTAssertEqual(d.values, doubles)
        XCTAssertEqual(d[1, 2, 3], doubles[23])
        XCTAssertEqual(d[0, 1, 2], doubles[6])
        XCTAssertEqual(try reopened.read(Float.self, from: "floats").values, (0..<6).map { Float($0) / 3 })
        XCTAssertEqual(try reopened.read(Int32.self, from: "/ints/i32").values, [Int32.min, -1, 0, Int32.max])
        XCTAssertEqual(try reopened.read(Int64.self, from: "/ints/i64").values, [Int64.min, 0, Int64.max])
        // HDF5 converts on read.
        XCTAssertEqual(try reopened.read(Double.self, from: "floats").values[3], Double(Float(1)), accuracy: 0)
        XCTAssertEqual(try reopened.members(of: "/"), ["floats", "grid", "ints"])
        XCTAssertEqual(try reopened.members(of: "/ints"), ["i32", "i64"])
    }

    func testHyperslabsChunkingCompressionAndExtension() throws {
        let file = try HDF5File.create(path("slabs.h5"))
        let ds = try file.createDataset("/chains/draws", of: Double.self, shape: [0, 5],
                                        layout: DatasetLayout(chunks: [16, 5], maxShape: [nil, 5], compression: 4))
        for block in 0..<3 {
            try ds.extend(to: [(block + 1) * 10, 5])
            let values = (0..<50).map { Double(block * 100 + $0) }
            try ds.write(values, start: [block * 10, 0], count: [10, 5])
        }
        XCTAssertEqual(try ds.shape(), [30, 5])
        let middle = try ds.read(Double.self, start: [12, 1], count: [3, 2])
        XCTAssertEqual(middle.values, [111, 112, 116, 117, 121, 122])
        // A write outside the dataset is refused with the file and object named.
        XCTAssertThrowsError(try ds.write([1.0], start: [30, 0], count: [1, 1])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("slabs.h5") && text.contains("/chains/draws") && text.contains("outside"), text)
        }
        ds.close()
        try file.close()
        let again = try HDF5File.open(path("slabs.h5"))
        let all = try again.read(Double.self, from: "/chains/draws")
        XCTAssertEqual(all.values[0], 0)
        XCTAssertEqual(all.values[149], 249)
    }

    func testStringsAndAttributes() throws {
        let file = try HDF5File.create(path("attrs.h5"))
        try file.writeStrings(["F090W", "F200W", "ŝtränge ✓"], to: "/meta/bands")
        try file.write([1.0, 2.0], to: "/meta/zeropoints")
        try file.setAttribute("table_version", .string("v1.2"))
        try file.setAttribute("n_cells", .int(42))
        try file.setAttribute("kappa", .double(0.45), on: "/meta")
        try file.setAttribute("edges", .doubles([0, 0.5, 1]), on: "/meta/zeropoints")
        try file.setAttribute("ids", .ints([3, 1, 4]), on: "/meta/zeropoints")
        try file.setAttribute("n_cells", .int(43))  // replace
        try file.close()

        let f = try HDF5File.open(path("attrs.h5"))
        XCTAssertEqual(try f.readStrings(from: "/meta/bands"), ["F090W", "F200W", "ŝtränge ✓"])
        XCTAssertEqual(try f.attribute("table_version"), .string("v1.2"))
        XCTAssertEqual(try f.attribute("n_cells"), .int(43))
        XCTAssertEqual(try f.attribute("kappa", of: "/meta").doubleValue, 0.45)
        XCTAssertEqual(try f.attribute("edges", of: "/meta/zeropoints"), .doubles([0, 0.5, 1]))
        XCTAssertEqual(try f.attribute("ids", of: "/meta/zeropoints"), .ints([3, 1, 4]))
        XCTAssertEqual(try f.attributeNames(of: "/"), ["n_cells", "table_version"])
        XCTAssertThrowsError(try f.attribute("nope", of: "/meta")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("attrs.h5") && text.contains("/meta attribute 'nope'"), text)
        }
    }

    /// The MPI-IO driver with the one-rank world of the test process, both transfer modes.
    func testParallelDriverOnOneRank() throws {
        let comm = try MPIEnvironment.initialize()
        let file = try HDF5File.create(path("par.h5"), communicator: comm)
        XCTAssertTrue(file.isParallel)
        let ds = try file.createDataset("x", of: Double.self, shape: [4, 3])
        try ds.write([1, 2, 3, 4, 5, 6], start: [0, 0], count: [2, 3], mode: .collective)
        try ds.write([7, 8, 9, 10, 11, 12], start: [2, 0], count: [2, 3], mode: .independent)
        try ds.write([Double](), start: [0, 0], count: [0, 3], mode: .collective)  // an empty selection is allowed
        XCTAssertEqual(try ds.read(Double.self, mode: .collective).values, (1...12).map(Double.init))
        ds.close()
        try file.close()
        XCTAssertEqual(try HDF5File.open(path("par.h5")).read(Double.self, from: "x").values.last, 12)
    }
}
