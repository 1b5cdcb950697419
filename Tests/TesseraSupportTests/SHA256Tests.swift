import Foundation
import TesseraTestSupport
import XCTest
@testable import TesseraSupport

final class SHA256Tests: XCTestCase {
    private func digest(_ text: String) -> String {
        SHA256Digest.hex(of: Array(text.utf8))
    }

    /// FIPS 180-4 / NIST example vectors.
    func testKnownVectors() {
        XCTAssertEqual(digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(
            digest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(digest(String(repeating: "a", count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// A file longer than the 1 MiB read piece, ending mid-piece, gives the digest of its bytes
    /// in one go (the pieces are fed to one hasher, not hashed separately).
    func testFileReadInPiecesMatchesOneShot() throws {
        let bytes = (0..<(3 << 19) + 77).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let path = try makeTemporaryDirectory(prefix: "sha").path("long.bin")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SHA256Digest.hex(ofFile: path), SHA256Digest.hex(of: bytes))
    }

    func testFileDigestAndMissingFile() throws {
        let path = try makeTemporaryDirectory(prefix: "sha").path("abc.txt")
        try Data("abc".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SHA256Digest.hex(ofFile: path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertThrowsError(try SHA256Digest.hex(ofFile: path + ".missing")) { error in
            XCTAssertTrue("\(error)".contains(path + ".missing"), "\(error)")
            XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
        }
    }
}
