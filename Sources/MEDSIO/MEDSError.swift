/// The error every MEDS problem becomes: which file, which HDU or table field, which object.
///
/// A MEDS tile feeds hours of fitting; a bad one must be refused when it is opened, with a
/// message that says where to look, not when some worker later reads a cutout.
public struct MEDSError: Error, CustomStringConvertible, Sendable, Equatable {
    public let path: String
    /// The HDU (EXTNAME, e.g. "object_data", "image_cutouts") involved.
    public let hdu: String?
    /// The table field involved (e.g. "ncutout", "start_row").
    public let field: String?
    /// 0-based object index, when one object is at fault.
    public let object: Int?
    public let detail: String

    public init(path: String, hdu: String? = nil, field: String? = nil, object: Int? = nil, detail: String) {
        self.path = path; self.hdu = hdu; self.field = field; self.object = object; self.detail = detail
    }

    /// E.g. `MEDS file tile.fits, HDU 'object_data', field 'ncutout', object 3: ncutout is 0 …`.
    public var description: String {
        var text = "MEDS file \(path)"
        if let hdu { text += ", HDU '\(hdu)'" }
        if let field { text += ", field '\(field)'" }
        if let object { text += ", object \(object)" }
        return text + ": " + detail
    }
}
