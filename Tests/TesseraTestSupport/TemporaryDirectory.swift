import Foundation
import XCTest

/// A fresh directory under the system temporary directory, for one test's files.
/// Each test makes its own, so tests never see each other's files; `remove()` deletes it.
public struct TemporaryDirectory: Sendable {
    public let url: URL

    /// The directory's path (for APIs that take paths).
    public var path: String { url.path }

    /// Creates `<tmp>/<prefix>-<UUID>`; the prefix names the test in a directory listing.
    public init(prefix: String = "tessera") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Path of `name` inside the directory.
    public func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

extension XCTestCase {
    /// Makes a temporary directory that is removed when the test ends.
    public func makeTemporaryDirectory(prefix: String = "tessera") throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: prefix)
        addTeardownBlock { directory.remove() }
        return directory
    }
}
