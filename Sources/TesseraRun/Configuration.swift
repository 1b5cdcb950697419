import Foundation
import Yams

/// A run configuration read from YAML, with every key documented and unknown keys rejected.
///
/// Conforming types declare their keys as a `CaseIterable` coding-key enum and document each in
/// `describe(_:)`; because that is a `switch` over the enum, the compiler refuses a key without
/// documentation. In `init(from:)` they call `decoder.strictContainer(keyedBy:)`, which throws on
/// any key not in the enum (a typo must not silently fall back to a default), and
/// `decodeIfPresent(...) ?? default` for optional keys, so the defaults are visible in one place.
/// The resolved configuration (all defaults filled in) is what a run writes to `params.json`;
/// JSON is valid YAML, so `--config RUN_DIR/params.json` repeats a run.
public protocol Configuration: Codable, Sendable {
    associatedtype Key: CodingKey & CaseIterable
    /// One line (or a few) documenting the key: meaning, units, default.
    static func describe(_ key: Key) -> String
    /// A default value for every key (what `tessera config` prints and an empty file gives).
    init()
    /// Check values that decode but make no sense (negative counts, etc.).
    func validate() throws
}

extension Configuration {
    public func validate() throws {}

    /// A commented YAML template listing every key with its documentation and default value.
    public static func documentedTemplate(title: String) -> String {
        var lines = ["# \(title)", "# Every key is optional; the values shown are the defaults.", ""]
        let defaults = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(Self())) as? [String: Any]) ?? [:]
        for key in Key.allCases {
            for docLine in describe(key).split(separator: "\n") { lines.append("# \(docLine)") }
            let value = defaults[key.stringValue].map(Self.yamlScalar) ?? "null"
            lines.append("\(key.stringValue): \(value)")
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    private static func yamlScalar(_ value: Any) -> String {
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]),
           let text = String(data: data, encoding: .utf8) {
            return text
        }
        return "\(value)"
    }
}

/// A coding key for any string, used to list the keys a mapping really has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

extension Decoder {
    /// A keyed container that throws if the mapping holds a key that `K` does not declare.
    public func strictContainer<K: CodingKey & CaseIterable>(keyedBy type: K.Type) throws -> KeyedDecodingContainer<K> {
        let known = Set(K.allCases.map(\.stringValue))
        let present = try container(keyedBy: AnyCodingKey.self).allKeys.map(\.stringValue)
        if let unknown = present.sorted().first(where: { !known.contains($0) }) {
            throw UnknownConfigKey(path: codingPath.map(\.stringValue) + [unknown],
                                   suggestion: closestMatch(to: unknown, in: Array(known)))
        }
        return try container(keyedBy: K.self)
    }
}

/// The candidate within edit distance 2 (or sharing a long prefix) of `word`, if any.
func closestMatch(to word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let scored = candidates.map { ($0, distance(Array(word.lowercased()), Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= Swift.max(2, word.count / 3) else { return nil }
    return best.0
}

/// Reads configurations from YAML (or JSON) files and turns every failure into a `ConfigError`
/// naming the file and field.
public enum ConfigLoader {
    public static func load<C: Configuration>(_ type: C.Type, from path: String) throws -> C {
        guard FileManager.default.fileExists(atPath: path) else { throw ConfigError.missingFile(file: path) }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError.unreadable(file: path, reason: "\(error.localizedDescription)")
        }
        return try parse(C.self, yaml: text, file: path)
    }

    /// Parse YAML text; `file` is only used in error messages.
    public static func parse<C: Configuration>(_ type: C.Type, yaml text: String, file: String) throws -> C {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ConfigError.syntax(file: file, message: "\(error)")
        }
        guard let node, node.mapping != nil || node.null != nil else {
            if node == nil { return try validated(C(), file: file) }
            throw ConfigError.syntax(file: file, message: "the top level must be a mapping of keys to values")
        }
        if node.null != nil { return try validated(C(), file: file) }
        do {
            return try validated(try YAMLDecoder().decode(C.self, from: text), file: file)
        } catch let DecodingError.dataCorrupted(context) where context.underlyingError is UnknownConfigKey {
            // Yams wraps errors thrown inside init(from:) that are not DecodingErrors.
            let error = context.underlyingError as! UnknownConfigKey
            throw ConfigError.unknownKey(file: file, field: error.path.joined(separator: "."), suggestion: error.suggestion)
        } catch let DecodingError.dataCorrupted(context) where context.underlyingError is InvalidConfigValue {
            let error = context.underlyingError as! InvalidConfigValue
            throw ConfigError.invalidValue(file: file, field: error.field, reason: error.reason)
        } catch let error as UnknownConfigKey {
            throw ConfigError.unknownKey(file: file, field: error.path.joined(separator: "."), suggestion: error.suggestion)
        } catch let error as ConfigError {
            throw error
        } catch let error as InvalidConfigValue {
            throw ConfigError.invalidValue(file: file, field: error.field, reason: error.reason)
        } catch let DecodingError.typeMismatch(expected, context) {
            throw ConfigError.wrongType(file: file, field: fieldPath(context.codingPath), expected: typeName(expected),
                                        detail: context.debugDescription)
        } catch let DecodingError.dataCorrupted(context) {
            throw ConfigError.wrongType(file: file, field: fieldPath(context.codingPath), expected: "a valid value",
                                        detail: context.debugDescription)
        } catch let DecodingError.valueNotFound(expected, context) {
            throw ConfigError.wrongType(file: file, field: fieldPath(context.codingPath), expected: typeName(expected),
                                        detail: "no value given")
        } catch let DecodingError.keyNotFound(key, context) {
            throw ConfigError.missingKey(file: file, field: fieldPath(context.codingPath + [key]))
        }
    }

    private static func validated<C: Configuration>(_ config: C, file: String) throws -> C {
        do { try config.validate() } catch let error as InvalidConfigValue {
            throw ConfigError.invalidValue(file: file, field: error.field, reason: error.reason)
        }
        return config
    }

    static func fieldPath(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type, is UInt.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default: return "\(type)"
        }
    }
}
