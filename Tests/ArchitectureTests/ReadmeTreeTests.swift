import Foundation
import XCTest

/// The README's architecture section names every file of the tree, and no file that is gone
/// (`scripts/architecture_tree.py --update-readme` rewrites the listing).
final class ReadmeTreeTests: XCTestCase {
    static let root = ImportRuleTests.root

    /// Paths (relative to the package root) listed in README.md between the files markers.
    static func listedFiles(readme: String) throws -> Set<String> {
        guard let begin = readme.range(of: "<!-- files:begin -->"), let end = readme.range(of: "<!-- files:end -->") else {
            throw ListingError(reason: "README.md has no <!-- files:begin --> … <!-- files:end --> block")
        }
        var folder: String?
        var files = Set<String>()
        for line in readme[begin.upperBound..<end.lowerBound].split(separator: "\n") {
            if line.hasSuffix("/"), !line.hasPrefix(" ") {
                folder = String(line)
            } else if line.hasPrefix("  "), let folder, let name = line.split(separator: " ").first {
                files.insert(folder + name)
            }
        }
        return files
    }

    /// Every file under Sources/ and Benchmarks/TesseraBench/.
    static func treeFiles() -> Set<String> {
        var files = Set<String>()
        for top in ["Sources", "Benchmarks/TesseraBench"] {
            let base = root.appendingPathComponent(top)
            guard let e = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else { continue }
            for case let url as URL in e where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                files.insert(top + "/" + url.path.dropFirst(base.path.count + 1))
            }
        }
        return files
    }

    struct ListingError: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    func testReadmeListsEveryFile() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let listed = try Self.listedFiles(readme: readme)
        let tree = Self.treeFiles()
        XCTAssertFalse(tree.isEmpty)
        XCTAssertEqual(tree.subtracting(listed).sorted(), [], "files missing from the README's architecture listing")
        XCTAssertEqual(listed.subtracting(tree).sorted(), [], "README lists files that do not exist")
    }

    func testListingParser() throws {
        let readme = """
            text
            <!-- files:begin -->
            ```
            Sources/A/
              One.swift                 first
              Sub/Two.swift             second
            Sources/B/
              shim.h                    shims
            ```
            <!-- files:end -->
            """
        XCTAssertEqual(try Self.listedFiles(readme: readme), ["Sources/A/One.swift", "Sources/A/Sub/Two.swift", "Sources/B/shim.h"])
    }
}
