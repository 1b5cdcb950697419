import Crypto
import Foundation

/// SHA-256 (FIPS 180-4) fingerprints as 64 lowercase hex characters, computed by swift-crypto.
///
/// Used for bookkeeping, not security: input files are fingerprinted in a run's `metadata.json`,
/// and a halo id that is not a number is hashed to a seed stream that is the same in every process.
/// Both are recorded, so the text form (lowercase hex, most significant byte first) is part of the
/// file formats and must not change.
public enum SHA256Digest {
    /// The digest of `bytes`.
    public static func hex<Bytes: DataProtocol>(of bytes: Bytes) -> String {
        hex(Crypto.SHA256.hash(data: bytes))
    }

    /// The digest of a file's contents, read in 1 MiB pieces so that large inputs are not held in
    /// memory. Throws `FileError` naming the file.
    public static func hex(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileError.cannotOpen(path: path, reason: FileManager.default.fileExists(atPath: path)
                ? "not readable" : "no such file")
        }
        defer { try? handle.close() }
        var hasher = Crypto.SHA256()
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hex(hasher.finalize())
    }

    private static func hex(_ digest: Crypto.SHA256.Digest) -> String {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
