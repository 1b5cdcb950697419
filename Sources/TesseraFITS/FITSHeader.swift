/// The value of one header card.
public enum FITSHeaderValue: Sendable, Equatable {
    /// A character string (FITS: quoted). Trailing blanks are not significant in FITS and are
    /// dropped on reading.
    case string(String)
    /// An integer.
    case int(Int)
    /// A real number (FITS: written with a decimal point or exponent).
    case double(Double)
    /// A logical (FITS: T or F).
    case bool(Bool)
    /// No value: commentary cards (COMMENT, HISTORY, blank keyword) and keywords whose value is
    /// undefined. Complex-valued keywords, which Tessera never uses, are kept as `.string` holding
    /// the raw text, e.g. `"(1.0, 2.0)"`.
    case none

    /// Name of the value's type, used in error messages.
    var typeName: String {
        switch self {
        case .string: return "string"
        case .int: return "integer"
        case .double: return "real"
        case .bool: return "logical"
        case .none: return "undefined"
        }
    }
}

/// A header: the ordered cards of one HDU, plus where it came from.
///
/// Why a value type with an origin: headers are read once, passed around (e.g. to build a `WCS`)
/// and queried with typed getters whose errors must still name the file and HDU the header came
/// from. Keyword lookups are case-insensitive (FITS keywords are upper case) and return the first
/// matching card.
public struct FITSHeader: Sendable, Equatable {
    /// One 80-character header card.
    public struct Card: Sendable, Equatable {
        /// Keyword name, upper case ("" for a blank-keyword commentary card).
        public var key: String
        public var value: FITSHeaderValue
        /// Comment text after the `/` (for commentary cards, the card's text).
        public var comment: String

        public init(key: String, value: FITSHeaderValue, comment: String = "") {
            self.key = FITSHeader.normalize(key)
            self.value = value
            self.comment = comment
        }

        /// COMMENT, HISTORY or blank-keyword card: text only, never a value.
        public var isCommentary: Bool {
            key == "COMMENT" || key == "HISTORY" || key.isEmpty
        }

        /// Keywords that describe the HDU's structure (SIMPLE, BITPIX, NAXISn, XTENSION, TFORMn,
        /// …). CFITSIO maintains these itself; writing them by hand would corrupt the file, so
        /// `FITSFile.writeKeyword` refuses them.
        public var isStructural: Bool {
            if ["SIMPLE", "BITPIX", "NAXIS", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "TFIELDS",
                "THEAP", "END", "GROUPS", "ZIMAGE", "ZTABLE"].contains(key) { return true }
            for prefix in ["NAXIS", "TFORM", "TBCOL", "TDIM", "TTYPE"] where key.hasPrefix(prefix) {
                if key.dropFirst(prefix.count).allSatisfy(\.isNumber) { return true }
            }
            return false
        }
    }

    /// Cards in header order (without END).
    public var cards: [Card]
    /// Path of the file the header was read from; named in every error from the typed getters.
    public var path: String
    /// 0-based HDU index the header was read from, if any.
    public var hdu: Int?

    /// A header holding `cards`. `path` and `hdu` only label errors; for a header built in memory
    /// keep the default or name what it will describe.
    public init(cards: [Card] = [], path: String = "<in-memory header>", hdu: Int? = nil) {
        self.cards = cards
        self.path = path
        self.hdu = hdu
    }

    // MARK: Lookup

    /// First card with keyword `key`, if any.
    public func card(_ key: String) -> Card? {
        let key = Self.normalize(key)
        return cards.first { $0.key == key }
    }

    /// Value of the first card with keyword `key`, or nil if there is none.
    public subscript(key: String) -> FITSHeaderValue? {
        card(key)?.value
    }

    /// Whether the header has a card with keyword `key`.
    public func contains(_ key: String) -> Bool {
        card(key) != nil
    }

    // MARK: Editing

    /// Sets the first `key` card to `value` (appending a card if there is none). A nil `comment`
    /// keeps the existing card's comment.
    public mutating func set(_ key: String, _ value: FITSHeaderValue, comment: String? = nil) {
        let key = Self.normalize(key)
        if let i = cards.firstIndex(where: { $0.key == key }) {
            cards[i].value = value
            if let comment { cards[i].comment = comment }
        } else {
            cards.append(Card(key: key, value: value, comment: comment ?? ""))
        }
    }

    /// Removes every card with keyword `key`.
    public mutating func remove(_ key: String) {
        let key = Self.normalize(key)
        cards.removeAll { $0.key == key }
    }

    // MARK: Typed getters (throw naming file, HDU and keyword)

    /// String value of `key`. Throws `.missingKeyword` / `.wrongKeywordType`.
    public func string(_ key: String) throws -> String {
        try required(key) { if case let .string(s) = $0 { return s } else { return nil } }
    }

    /// Integer value of `key`. Throws `.missingKeyword` / `.wrongKeywordType` (reals are not
    /// silently truncated).
    public func int(_ key: String) throws -> Int {
        try required(key) { if case let .int(i) = $0 { return i } else { return nil } }
    }

    /// Real value of `key`; an integer value is accepted (FITS writes `CRPIX1 = 100` for 100.0).
    /// Throws `.missingKeyword` / `.wrongKeywordType`.
    public func double(_ key: String) throws -> Double {
        try required(key, expected: "real", Self.asDouble)
    }

    /// Logical value of `key`. Throws `.missingKeyword` / `.wrongKeywordType`.
    public func bool(_ key: String) throws -> Bool {
        try required(key) { if case let .bool(b) = $0 { return b } else { return nil } }
    }

    /// String value of `key`, nil if absent; throws `.wrongKeywordType` if present with another type.
    public func string(ifPresent key: String) throws -> String? {
        try optional(key, expected: "string") { if case let .string(s) = $0 { return s } else { return nil } }
    }

    /// Integer value of `key`, nil if absent; throws `.wrongKeywordType` if present with another type.
    public func int(ifPresent key: String) throws -> Int? {
        try optional(key, expected: "integer") { if case let .int(i) = $0 { return i } else { return nil } }
    }

    /// Real (or integer) value of `key`, nil if absent; throws `.wrongKeywordType` otherwise.
    public func double(ifPresent key: String) throws -> Double? {
        try optional(key, expected: "real", Self.asDouble)
    }

    /// Logical value of `key`, nil if absent; throws `.wrongKeywordType` if present with another type.
    public func bool(ifPresent key: String) throws -> Bool? {
        try optional(key, expected: "logical") { if case let .bool(b) = $0 { return b } else { return nil } }
    }

    // MARK: Internals

    private static func asDouble(_ value: FITSHeaderValue) -> Double? {
        switch value {
        case let .double(d): return d
        case let .int(i): return Double(i)
        default: return nil
        }
    }

    private func required<T>(_ key: String, expected: String? = nil,
                             _ extract: (FITSHeaderValue) -> T?) throws -> T {
        let expectedName = expected ?? Self.typeName(of: T.self)
        guard let value = try optional(key, expected: expectedName, extract) else {
            throw FITSError(reason: .missingKeyword, path: path, hdu: hdu, keyword: Self.normalize(key),
                            detail: "required keyword not found in header")
        }
        return value
    }

    private func optional<T>(_ key: String, expected: String,
                             _ extract: (FITSHeaderValue) -> T?) throws -> T? {
        guard let card = card(key) else { return nil }
        guard let value = extract(card.value) else {
            throw FITSError(reason: .wrongKeywordType, path: path, hdu: hdu, keyword: card.key,
                            detail: "expected a \(expected) value, found \(card.value.typeName) value \(Self.show(card.value))")
        }
        return value
    }

    private static func typeName<T>(of _: T.Type) -> String {
        switch T.self {
        case is String.Type: return "string"
        case is Int.Type: return "integer"
        case is Bool.Type: return "logical"
        default: return "real"
        }
    }

    private static func show(_ value: FITSHeaderValue) -> String {
        switch value {
        case let .string(s): return "'\(s)'"
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .bool(b): return b ? "T" : "F"
        case .none: return "(none)"
        }
    }

    /// Keyword names are compared upper-cased and without surrounding blanks.
    static func normalize(_ key: String) -> String {
        key.trimmingBlanks().uppercased()
    }
}

extension String {
    /// Drops leading and trailing ASCII blanks (Foundation-free on purpose: used for card parsing).
    func trimmingBlanks() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
