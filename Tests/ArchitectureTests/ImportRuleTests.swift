import Foundation
import XCTest

/// The layer rule as a test: no target imports a layer above its own (`allowed-imports.txt`).
final class ImportRuleTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tablePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("allowed-imports.txt")

    /// Every source target of the package: the folders of `Sources/`, and the benchmark executable.
    static func packageTargets() throws -> [String: URL] {
        let sources = root.appendingPathComponent("Sources")
        var targets: [String: URL] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: sources.path) {
            var isDirectory: ObjCBool = false
            let url = sources.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
                targets[name] = url
            }
        }
        targets["tessera-bench"] = root.appendingPathComponent("Benchmarks/TesseraBench")
        return targets
    }

    func testTheTreeKeepsTheTable() throws {
        let rules = try ImportRules(text: String(contentsOf: Self.tablePath, encoding: .utf8))
        XCTAssertEqual(rules.upwardEdges(), [])
        let targets = try Self.packageTargets()
        XCTAssertEqual(try rules.violations(sources: targets), [])
        // Every line of the table names a real target, so the table cannot keep dead rules.
        XCTAssertEqual(Set(rules.rules.keys).subtracting(targets.keys).sorted(), [])
    }

    /// A science target that imports MPI is caught, with the file and module named.
    func testADeliberateViolationIsCaught() throws {
        let rules = try ImportRules(text: String(contentsOf: Self.tablePath, encoding: .utf8))
        let tree = FileManager.default.temporaryDirectory.appendingPathComponent("import-rule-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tree) }
        let folder = tree.appendingPathComponent("Microlensing")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "import Foundation\n@preconcurrency import TesseraMPI\n\nlet x = 1\n".write(
            to: folder.appendingPathComponent("Leak.swift"), atomically: true, encoding: .utf8)
        let found = try rules.violations(sources: ["Microlensing": folder])
        XCTAssertEqual(found, ["Microlensing/Leak.swift imports TesseraMPI, which Microlensing (Science) may not"])
    }

    /// A table that lets a lower layer import a higher one is rejected.
    func testAnUpwardTableEdgeIsCaught() throws {
        let rules = try ImportRules(text: """
            layer Platform
            TesseraMPI: Foundation WorkQueue
            layer Engine
            WorkQueue: Foundation TesseraMPI
            """)
        XCTAssertEqual(rules.upwardEdges(), ["TesseraMPI (Platform) may import WorkQueue (Engine), a layer above"])
    }

    func testImportParsing() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("imports-\(UUID().uuidString).swift")
        defer { try? FileManager.default.removeItem(at: file) }
        try """
            import Foundation
            @testable import SceneModel
            import struct Inference.NUTS
            #if canImport(Glibc)
            import Glibc
            #endif
            // import NotThis
            let important = 1
            """.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ImportRules.imports(of: file), ["Foundation", "SceneModel", "Inference", "Glibc"])
    }
}
