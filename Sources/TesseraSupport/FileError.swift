/// Errors about plain files (not their format): every case names the path.
public enum FileError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open (\(reason))"
        case let .cannotWrite(path, reason): return "\(path): cannot write (\(reason))"
        }
    }
}
