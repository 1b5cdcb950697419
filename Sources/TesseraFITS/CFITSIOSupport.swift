import CFITSIO
import Foundation

/// Internal helpers that turn CFITSIO's C conventions (status integers, a global message stack,
/// fixed-size `char` buffers) into Swift values. Nothing here is public: raw C types stop in this
/// target.
enum CFITSIOCall {
    /// CFITSIO's short description of a status code (`ffgerr`).
    static func statusText(_ status: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(FLEN_STATUS) + 1)
        ffgerr(status, &buffer)
        return string(fromCBuffer: buffer)
    }

    /// Pops every message from CFITSIO's error-message stack (`ffgmsg`), oldest first.
    ///
    /// Called after every failure so that stale messages never leak into a later error.
    static func drainMessages() -> [String] {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: Int(FLEN_ERRMSG) + 1)
        // Bounded so that a misbehaving library can never make this loop forever.
        for _ in 0..<1000 {
            buffer.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            let length = ffgmsg(&buffer)
            if length <= 0 { break }
            let text = string(fromCBuffer: buffer)
            if !text.isEmpty { messages.append(text) }
        }
        return messages
    }

    /// Builds a `FITSError` for a non-zero CFITSIO status, collecting status text and messages.
    static func error(status: Int32, reason: FITSError.Reason = .cfitsio, path: String, hdu: Int?,
                      keyword: String? = nil, column: String? = nil, detail: String) -> FITSError {
        FITSError(reason: reason, path: path, hdu: hdu, keyword: keyword, column: column,
                  detail: detail, status: Int(status), statusText: statusText(status),
                  messages: drainMessages())
    }

    /// Decodes a NUL-terminated C buffer (bytes after the first NUL are ignored).
    static func string(fromCBuffer buffer: [CChar]) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A zeroed buffer big enough for any CFITSIO string output of the given `FLEN_*` size.
    static func buffer(_ flen: Int32) -> [CChar] {
        [CChar](repeating: 0, count: Int(flen) + 1)
    }

    /// Runs `body` with an array of C strings (`char **`) that CFITSIO may read; the strings are
    /// freed afterwards. CFITSIO declares these parameters non-const but does not modify them.
    static func withCStringArray<R>(_ strings: [String],
                                    _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) throws -> R)
        rethrows -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        if pointers.isEmpty { pointers.append(nil) }  // never hand CFITSIO a dangling base address
        return try pointers.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}
