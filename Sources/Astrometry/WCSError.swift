/// Why a set of WCS values cannot describe a TAN projection Tessera supports: the FITS keyword
/// the values correspond to (nil when no single keyword is to blame) and a sentence saying what
/// is wrong. TesseraFITS rethrows it as a `FITSError` naming the header's file and HDU.
public struct WCSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The FITS keyword of the offending value (e.g. "CRVAL2", "CD1_1"), nil if several.
    public let keyword: String?
    public let detail: String

    public init(keyword: String?, detail: String) {
        self.keyword = keyword
        self.detail = detail
    }

    public var description: String {
        keyword.map { "WCS keyword '\($0)': \(detail)" } ?? "WCS: \(detail)"
    }
}
