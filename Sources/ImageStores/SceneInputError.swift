/// A problem with a scene input (catalog, pixel store, PSF store, exposure), naming the file and field.
public struct SceneInputError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var field: String?
    public var message: String
    public init(file: String, field: String?, message: String) { self.file = file; self.field = field; self.message = message }
    public var description: String { "\(file)\(field.map { ": \($0)" } ?? ""): \(message)" }
}
