/// Every failure in the FITS layer.
///
/// Why one struct rather than many enums: a FITS problem is only actionable when the message says
/// *which file*, *which HDU*, and *which keyword or column* was involved, and — when CFITSIO
/// reported it — CFITSIO's own status text and its error-message stack (which often names the
/// exact byte offset or card that was wrong). Every `FITSError` therefore carries the file path
/// (always), the HDU index, keyword and column where relevant, and the CFITSIO status details.
///
/// HDU indices are 0-based throughout Tessera (0 = primary HDU), unlike CFITSIO's 1-based numbers.
public struct FITSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; lets callers react without parsing text.
    public enum Reason: String, Sendable, Equatable {
        /// The file to open does not exist.
        case fileNotFound
        /// The file to create already exists and overwriting was not requested.
        case fileExists
        /// The file exists but is not a readable FITS file (e.g. text, or a damaged first header).
        case notFITS
        /// The file ends before the data it declares (truncated download or interrupted write).
        case truncated
        /// Any other failure reported by CFITSIO; see `status`, `statusText` and `messages`.
        case cfitsio
        /// There is no HDU with the requested index or EXTNAME.
        case noSuchHDU
        /// The HDU is not of the kind the operation needs (e.g. reading an image from a table).
        case wrongHDUType
        /// A required header keyword is absent.
        case missingKeyword
        /// A header keyword exists but its value has another type than the one requested.
        case wrongKeywordType
        /// A table has no column with the requested name.
        case missingColumn
        /// A table column exists but holds another type than the one requested.
        case wrongColumnType
        /// The caller passed values that cannot be written as FITS (bad shape, bad name, …).
        case invalidArgument
        /// The header describes a world coordinate system this code does not implement.
        case unsupportedWCS
        /// The `FITSFile` was already closed.
        case fileClosed
    }

    public let reason: Reason
    /// Path of the file involved (for in-memory headers, the origin recorded in the header).
    public let path: String
    /// 0-based HDU index, when the failure concerns one HDU.
    public let hdu: Int?
    /// Header keyword involved, if any.
    public let keyword: String?
    /// Table column involved, if any.
    public let column: String?
    /// One sentence saying what went wrong, in Tessera's words.
    public let detail: String
    /// CFITSIO status code (0 when CFITSIO was not involved).
    public let status: Int
    /// CFITSIO's short text for `status` (from `ffgerr`), empty when `status` is 0.
    public let statusText: String
    /// CFITSIO's error-message stack (from `ffgmsg`), oldest first.
    public let messages: [String]

    public init(reason: Reason, path: String, hdu: Int? = nil, keyword: String? = nil,
                column: String? = nil, detail: String, status: Int = 0, statusText: String = "",
                messages: [String] = []) {
        self.reason = reason
        self.path = path
        self.hdu = hdu
        self.keyword = keyword
        self.column = column
        self.detail = detail
        self.status = status
        self.statusText = statusText
        self.messages = messages
    }

    /// E.g. `FITS error in /data/img.fits, HDU 1, keyword 'CRVAL1': keyword not found
    /// [CFITSIO status 202: keyword not found in header; CFITSIO messages: …]`.
    public var description: String {
        var where_ = "FITS error in \(path)"
        if let hdu { where_ += ", HDU \(hdu)" }
        if let keyword { where_ += ", keyword '\(keyword)'" }
        if let column { where_ += ", column '\(column)'" }
        var text = "\(where_): \(detail)"
        if status != 0 {
            text += " [CFITSIO status \(status): \(statusText)"
            if !messages.isEmpty { text += "; CFITSIO messages: " + messages.joined(separator: " | ") }
            text += "]"
        } else if !messages.isEmpty {
            text += " [CFITSIO messages: " + messages.joined(separator: " | ") + "]"
        }
        return text
    }
}
