/// A configuration file that cannot be used. Every case names the file, and the field as a
/// dotted path (`sampling.n_warmup`) where there is one.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case missingFile(file: String)
    case unreadable(file: String, reason: String)
    case syntax(file: String, message: String)
    case unknownKey(file: String, field: String, suggestion: String?)
    case wrongType(file: String, field: String, expected: String, detail: String)
    case missingKey(file: String, field: String)
    case invalidValue(file: String, field: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(file): return "\(file): configuration file not found"
        case let .unreadable(file, reason): return "\(file): cannot read configuration (\(reason))"
        case let .syntax(file, message): return "\(file): not valid YAML: \(message)"
        case let .unknownKey(file, field, suggestion):
            return "\(file): unknown key '\(field)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                + "; run `tessera config COMMAND` for the documented keys"
        case let .wrongType(file, field, expected, detail):
            return "\(file): field '\(field)' must be \(expected) (\(detail))"
        case let .missingKey(file, field): return "\(file): required field '\(field)' is missing"
        case let .invalidValue(file, field, reason): return "\(file): field '\(field)': \(reason)"
        }
    }
}

/// Thrown from inside `init(from:)` before the file name is known; `ConfigLoader` adds it.
struct UnknownConfigKey: Error {
    let path: [String]
    let suggestion: String?
}

/// Thrown by a configuration's `validate()` (or its decoder) for a value of the right type that
/// makes no sense; `ConfigLoader` adds the file name.
public struct InvalidConfigValue: Error {
    public let field: String
    public let reason: String
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}
