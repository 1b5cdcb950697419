import Foundation

/// Writes a result file so that a crash, a kill or an error never leaves half of it under its
/// name: `body` writes (and closes) the file at the temporary path `path + ".partial"`, which then
/// replaces `path` by a rename, so readers see the old file or the new one. If `body` throws,
/// the partial file is removed, any earlier file at `path` is left as it was, and the error is
/// rethrown.
public func writeReplacing(_ path: String, _ body: (_ partialPath: String) throws -> Void) throws {
    let partial = path + ".partial"
    let manager = FileManager.default
    try? manager.removeItem(atPath: partial)
    do {
        try body(partial)
    } catch {
        try? manager.removeItem(atPath: partial)
        throw error
    }
    if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
    try manager.moveItem(atPath: partial, toPath: path)
}
