import Foundation
import XCTest

/// Raw pointers stay in the platform layer's C wrappers and in a few named kernel files, each
/// of which says why (its throughput) in a comment containing "raw pointers". A pointer anywhere
/// else, or a kernel file that no longer explains itself, fails here; the README's architecture
/// section names the same files.
final class RawPointerTests: XCTestCase {
    /// Targets that wrap C libraries: pointers are their job.
    static let platformTargets: Set<String> = ["TesseraMPI", "TesseraHDF5", "TesseraFITS", "TesseraLinAlg", "TesseraPNG"]
    /// Science files whose inner loops use unchecked pointers for speed.
    static let kernelFiles: Set<String> = [
        "SceneModel/KernelPixelLoop.swift",
        "Microlensing/RayShooter.swift", "Microlensing/TriangleDeposit.swift",
        "Microlensing/LocalExpansion.swift", "Microlensing/FFT.swift",
    ]

    static func usesRawPointers(_ text: String) -> Bool {
        text.range(of: #"Unsafe(Mutable)?(Raw)?(Buffer)?Pointer|withUnsafe"#, options: .regularExpression) != nil
    }

    /// `Target/File.swift` of every file under Sources/ that uses raw pointers outside the platform targets.
    static func pointerFiles(sources: URL) throws -> Set<String> {
        var found = Set<String>()
        for target in try FileManager.default.contentsOfDirectory(atPath: sources.path) where !platformTargets.contains(target) {
            for file in try ImportRules.swiftFiles(in: sources.appendingPathComponent(target)) {
                if usesRawPointers(try String(contentsOf: file, encoding: .utf8)) {
                    found.insert(target + "/" + file.path.dropFirst(sources.path.count + target.count + 2))
                }
            }
        }
        return found
    }

    func testPointersOnlyInNamedKernelFiles() throws {
        let sources = ImportRuleTests.root.appendingPathComponent("Sources")
        let found = try Self.pointerFiles(sources: sources)
        XCTAssertEqual(found.subtracting(Self.kernelFiles).sorted(), [], "raw pointers outside the named kernel files")
        for file in Self.kernelFiles {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            XCTAssertTrue(text.lowercased().contains("raw pointers"), "\(file) must say why it uses raw pointers")
        }
    }

    func testAPointerInScienceCodeIsCaught() throws {
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("pointer-rule-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tree) }
        let folder = tree.appendingPathComponent("HaloProfiles")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "func f(_ a: [Double]) -> Double { a.withUnsafeBufferPointer { $0[0] } }\n"
            .write(to: folder.appendingPathComponent("Fast.swift"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try Self.pointerFiles(sources: tree), ["HaloProfiles/Fast.swift"])
    }
}
