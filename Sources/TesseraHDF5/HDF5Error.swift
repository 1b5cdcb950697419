import CHDF5

/// A failed HDF5 operation. Always names the file and, where there is one, the object path
/// inside it (`/chains/source_12`), so a user can find what is wrong without a debugger.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let object: String?
    public let operation: String
    public let message: String

    /// For readers of a file layout that find a problem HDF5 itself does not (a wrong shape, a
    /// value out of range): the message still names the file and the object.
    public init(file: String, object: String?, operation: String, message: String) {
        self.file = file
        self.object = object
        self.operation = operation
        self.message = message
    }

    public var description: String {
        var text = "\(file)"
        if let object { text += ": \(object)" }
        return text + ": \(operation) failed: \(message)"
    }
}

/// Turn off HDF5's own printing of its error stack (we read the stack and put it into
/// `HDF5Error` instead). Called before every library entry point that can fail; cheap.
func silenceHDF5ErrorPrinting() {
    _ = H5Eset_auto2(tessera_h5e_default(), nil, nil)
}

/// The descriptions on HDF5's current error stack, outermost (API call) first.
func hdf5ErrorStackDescriptions() -> [String] {
    final class Collector { var lines: [String] = [] }
    let collector = Collector()
    let context = Unmanaged.passUnretained(collector).toOpaque()
    _ = H5Ewalk2(tessera_h5e_default(), H5E_WALK_DOWNWARD, { _, descriptor, clientData in
        guard let descriptor, let clientData else { return 0 }
        let box = Unmanaged<Collector>.fromOpaque(clientData).takeUnretainedValue()
        if let desc = descriptor.pointee.desc {
            box.lines.append(String(cString: desc))
        }
        return 0
    }, context)
    withExtendedLifetime(collector) {}
    H5Eclear2(tessera_h5e_default())
    return collector.lines
}

/// Build an error from HDF5's error stack: the API-level description and the innermost cause.
func hdf5Error(file: String, object: String?, operation: String, fallback: String = "HDF5 reported an error") -> HDF5Error {
    let lines = hdf5ErrorStackDescriptions()
    var parts: [String] = []
    if let last = lines.last { parts.append(last) }
    if let first = lines.first, first != lines.last { parts.append("(\(first))") }
    return HDF5Error(file: file, object: object, operation: operation,
                     message: parts.isEmpty ? fallback : parts.joined(separator: " "))
}
