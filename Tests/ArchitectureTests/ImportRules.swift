import Foundation

/// The import rule of Tessera's layers, as data: which modules each target may import.
///
/// The table lives in `allowed-imports.txt` beside this file (described in the README's
/// architecture section). Layers are listed bottom first; a target may import targets of its own
/// layer or of a lower one, and only those named on its line, plus the external modules (Foundation,
/// packages) named there. A table that lets a target import a layer above its own is itself a
/// violation, so the rule cannot be bent by editing one line.
struct ImportRules {
    struct Rule { var layer: Int; var layerName: String; var allowed: Set<String> }
    var rules: [String: Rule] = [:]
    var layerNames: [String] = []

    /// Parses lines `layer NAME` (a new layer, above the previous ones) and `Target: A B C`.
    /// `#` starts a comment.
    init(text: String) throws {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            if line.hasPrefix("layer ") {
                layerNames.append(String(line.dropFirst(6)).trimmingCharacters(in: .whitespaces))
            } else if let colon = line.firstIndex(of: ":"), !layerNames.isEmpty {
                let target = line[..<colon].trimmingCharacters(in: .whitespaces)
                let allowed = line[line.index(after: colon)...].split(separator: " ").map(String.init)
                guard rules[target] == nil else { throw TableError(line: n + 1, reason: "\(target) listed twice") }
                rules[target] = Rule(layer: layerNames.count - 1, layerName: layerNames.last!, allowed: Set(allowed))
            } else {
                throw TableError(line: n + 1, reason: "expected 'layer NAME' or 'Target: imports…', got '\(line)'")
            }
        }
    }

    struct TableError: Error, CustomStringConvertible {
        var line: Int; var reason: String
        var description: String { "allowed-imports.txt line \(line): \(reason)" }
    }

    /// Edges of the table that point up a layer.
    func upwardEdges() -> [String] {
        rules.sorted { $0.key < $1.key }.flatMap { target, rule in
            rule.allowed.sorted().compactMap { module -> String? in
                guard let other = rules[module], other.layer > rule.layer else { return nil }
                return "\(target) (\(rule.layerName)) may import \(module) (\(other.layerName)), a layer above"
            }
        }
    }

    /// Every import in `sources` (target name → its folder) that its target's line does not allow,
    /// and every target with no line.
    func violations(sources: [String: URL]) throws -> [String] {
        var found: [String] = []
        for (target, folder) in sources.sorted(by: { $0.key < $1.key }) {
            guard let rule = rules[target] else {
                found.append("\(target): not in allowed-imports.txt")
                continue
            }
            for file in try ImportRules.swiftFiles(in: folder) {
                for module in try ImportRules.imports(of: file) where !rule.allowed.contains(module) && module != target {
                    found.append("\(target)/\(file.lastPathComponent) imports \(module), which \(target) (\(rule.layerName)) may not")
                }
            }
        }
        return found
    }

    static func swiftFiles(in folder: URL) throws -> [URL] {
        guard let e = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return e.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path }
    }

    /// Module names of the `import` declarations in a Swift file (`@testable`, `@preconcurrency`,
    /// `import struct M.T` and imports inside `#if` blocks included).
    static func imports(of file: URL) throws -> [String] {
        let text = try String(contentsOf: file, encoding: .utf8)
        return text.split(separator: "\n").compactMap { raw -> String? in
            var words = raw.split(separator: " ").map(String.init).filter { !$0.isEmpty }
            while let first = words.first, first.hasPrefix("@") { words.removeFirst() }
            guard words.count >= 2, words[0] == "import" else { return nil }
            let kinds: Set<String> = ["struct", "class", "enum", "protocol", "typealias", "func", "var", "let"]
            let path = kinds.contains(words[1]) && words.count >= 3 ? words[2] : words[1]
            return String(path.split(separator: ".").first!)
        }
    }
}
