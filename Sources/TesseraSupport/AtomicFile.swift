import Foundation

/// Writes a result file so that a crash, a kill or an error never leaves half of it under its
/// name: `body` writes (and closes) the file at the temporary path `path + ".partial"`, which then
/// replaces `path` with rename(2). Readers see the old file or the new one, never a missing or
/// half-written one. If `body` throws, the partial file is removed, any earlier file at `path`
/// is left as it was, and the error is rethrown.
public func writeReplacing(_ path: String, _ body: (_ partialPath: String) throws -> Void) throws {
    let partial = path + ".partial"
    try? FileManager.default.removeItem(atPath: partial)
    do {
        try body(partial)
        guard rename(partial, path) == 0 else {
            throw FileError.cannotWrite(path: path, reason: "cannot rename \(partial) to it: \(String(cString: strerror(errno)))")
        }
    } catch {
        try? FileManager.default.removeItem(atPath: partial)
        throw error
    }
}
