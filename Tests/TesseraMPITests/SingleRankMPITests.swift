import XCTest
@testable import TesseraMPI

/// MPI in the test process itself: a one-rank world (singleton mode, no mpirun). Multi-rank
/// behaviour is tested by MultiRankTests, which launch the `tessera` binary under mpirun.
final class SingleRankMPITests: XCTestCase {
    struct Note: Codable, Equatable {
        var id: Int
        var text: String
        var values: [Double]
    }

    func testInitialiseIsIdempotentAndGivesOneRankWorld() throws {
        let a = try MPIEnvironment.initialize()
        let b = try MPIEnvironment.initialize()
        XCTAssertTrue(MPIEnvironment.isInitialized)
        XCTAssertEqual(a.rank, 0)
        XCTAssertEqual(a.size, 1)
        XCTAssertEqual(b.size, 1)
        XCTAssertTrue(MPIEnvironment.libraryVersion.contains("MPI"))
        XCTAssertFalse(try MPIEnvironment.processorName().isEmpty)
    }

    func testTypedAndCodableMessagesToSelf() throws {
        let comm = try MPIEnvironment.initialize()
        try comm.send([1.5, -2.25, .pi], to: 0, tag: 5)
        let info = try comm.probe(from: .rank(0), tag: .tag(5))
        XCTAssertEqual(info, MessageInfo(source: 0, tag: 5, byteCount: 24))
        let doubles = try comm.receive(Double.self, from: .rank(0), tag: .tag(5))
        XCTAssertEqual(doubles.value, [1.5, -2.25, .pi])
        XCTAssertEqual(doubles.source, 0)

        try comm.send([Int32.min, 0, Int32.max], to: 0, tag: 6)
        XCTAssertEqual(try comm.receive(Int32.self, tag: .tag(6)).value, [Int32.min, 0, Int32.max])

        let note = Note(id: 3, text: "κ = 0.45, γ = 0.3 ✓", values: [1e-300, .infinity, -0.0])
        try comm.send(message: note, to: 0, tag: 7)
        let received = try comm.receive(message: Note.self, tag: .tag(7))
        XCTAssertEqual(received.value, note)
        XCTAssertEqual(received.tag, 7)
        XCTAssertNil(try comm.pendingMessage())
    }

    func testWrongMessageTypeIsAClearError() throws {
        let comm = try MPIEnvironment.initialize()
        try comm.send(message: Note(id: 1, text: "x", values: []), to: 0, tag: 8)
        XCTAssertThrowsError(try comm.receive(message: [Int].self, tag: .tag(8))) { error in
            XCTAssertTrue("\(error)".contains("holds a Note"), "\(error)")
        }
        try comm.send([1.0], to: 0, tag: 9)
        XCTAssertThrowsError(try comm.receive(message: Note.self, tag: .tag(9))) { error in
            XCTAssertTrue("\(error)".contains("not a Tessera message"), "\(error)")
        }
    }

    func testBadRankIsAnError() throws {
        let comm = try MPIEnvironment.initialize()
        XCTAssertThrowsError(try comm.send([1.0], to: 3, tag: 0)) { error in
            XCTAssertTrue("\(error)".contains("rank 3 is outside 0..<1"), "\(error)")
        }
    }

    func testCollectivesOnOneRank() throws {
        let comm = try MPIEnvironment.initialize()
        XCTAssertEqual(try comm.broadcast([1, 2, 3] as [Int64]), [1, 2, 3])
        XCTAssertEqual(try comm.broadcast(message: Note(id: 9, text: "b", values: [2])), Note(id: 9, text: "b", values: [2]))
        XCTAssertEqual(try comm.allreduce([1.5, 2.5], .sum), [1.5, 2.5])
        XCTAssertEqual(try comm.allreduce(Int64(4), .max), 4)
        XCTAssertEqual(try comm.reduce([3.0], .min), [3.0])
        XCTAssertEqual(try comm.gather(message: "host"), ["host"])
        try comm.barrier()
    }

    func testWaitForMessageReturnsPendingMessage() throws {
        let comm = try MPIEnvironment.initialize()
        try comm.send([UInt8(1), 2], to: 0, tag: 21)
        let info = try comm.waitForMessage(tag: .tag(21))
        XCTAssertEqual(info.byteCount, 2)
        XCTAssertEqual(try comm.receive(UInt8.self, tag: .tag(21)).value, [1, 2])
    }
}
