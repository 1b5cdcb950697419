import CFITSIO
import Foundation

/// Reading whole headers and writing single keywords.
extension FITSFile {
    /// All cards of HDU `hdu` (0-based; nil = current), in order, without END. The header
    /// remembers this file's path and the HDU index so that its typed getters can name them.
    public func readHeader(hdu: Int? = nil) throws -> FITSHeader {
        try withHandle(hdu: hdu) { fptr in
            let index = currentIndex(fptr)
            var existing: Int32 = 0
            var more: Int32 = 0
            var status: Int32 = 0
            ffghsp(fptr, &existing, &more, &status)
            try check(status, hdu: index, "cannot read header size")
            var cards: [FITSHeader.Card] = []
            cards.reserveCapacity(Int(existing))
            var name = CFITSIOCall.buffer(FLEN_KEYWORD)
            var value = CFITSIOCall.buffer(FLEN_VALUE)
            var comment = CFITSIOCall.buffer(FLEN_COMMENT)
            for number in 1...max(existing, 1) where number <= existing {
                ffgkyn(fptr, number, &name, &value, &comment, &status)
                try check(status, hdu: index, "cannot read header card \(number)")
                let key = CFITSIOCall.string(fromCBuffer: name)
                let raw = CFITSIOCall.string(fromCBuffer: value)
                let card = FITSHeader.Card(key: key, value: Self.parseValue(raw),
                                           comment: CFITSIOCall.string(fromCBuffer: comment))
                cards.append(card)
            }
            return FITSHeader(cards: cards, path: path, hdu: index)
        }
    }

    /// Writes keyword `key` in HDU `hdu` (0-based; nil = current): updates the first existing
    /// card with that name, or appends a new one.
    ///
    /// - `comment: nil` keeps an existing card's comment (a new card gets none).
    /// - Reals are written with the shortest decimal form that reads back to the identical
    ///   `Double` (e.g. `0.1`, `1E-05`); NaN and infinities are rejected (FITS has no syntax).
    /// - `COMMENT` and `HISTORY` (value `.none`) *append* a commentary card with `comment` as text.
    /// - `.none` for another keyword writes it with an undefined value.
    ///
    /// Keyword names must be 1–8 characters of `A–Z 0–9 - _` (lower case is upper-cased);
    /// strings and comments must be printable ASCII; a string must fit on one card (≤ 68
    /// characters after doubling quotes). Structural keywords (BITPIX, NAXISn, TFORMn, …) are
    /// refused: CFITSIO maintains them.
    public func writeKeyword(_ key: String, _ value: FITSHeaderValue, comment: String? = nil,
                             hdu: Int? = nil) throws {
        try requireWritable()
        let key = FITSHeader.normalize(key)
        try validateKeywordName(key, hdu: hdu)
        let card = FITSHeader.Card(key: key, value: value, comment: comment ?? "")
        if card.isStructural {
            throw FITSError(reason: .invalidArgument, path: path, hdu: hdu, keyword: key,
                            detail: "structural keyword is maintained by CFITSIO and cannot be written directly")
        }
        if let comment { try validateASCII(comment, what: "comment", keyword: key, hdu: hdu) }
        if case let .string(s) = value { try validateStringValue(s, keyword: key, hdu: hdu) }

        try withHandle(hdu: hdu) { fptr in
            let index = currentIndex(fptr)
            var status: Int32 = 0
            if card.isCommentary {
                guard value == .none else {
                    throw FITSError(reason: .invalidArgument, path: path, hdu: index, keyword: key,
                                    detail: "commentary keyword cannot have a value; pass the text as comment")
                }
                if key == "COMMENT" { ffpcom(fptr, comment ?? "", &status) } else { ffphis(fptr, comment ?? "", &status) }
                try check(status, hdu: index, keyword: key, "cannot append commentary card")
                return
            }
            let keptComment = try comment ?? existingComment(fptr, key: key, hdu: index)
            if value == .none {
                ffukyu(fptr, key, keptComment, &status)
                try check(status, hdu: index, keyword: key, "cannot write keyword")
                return
            }
            var valueText = Array(try Self.formatValue(value, path: path, hdu: index, key: key).utf8CString)
            var cardText = CFITSIOCall.buffer(FLEN_CARD)
            ffmkky(key, &valueText, keptComment, &cardText, &status)
            try check(status, hdu: index, keyword: key, "cannot format header card")
            ffucrd(fptr, key, cardText, &status)
            try check(status, hdu: index, keyword: key, "cannot write keyword")
        }
    }

    /// Writes each card with `writeKeyword` (in order) into HDU `hdu`. Pass
    /// `header.cards.filter { !$0.isStructural }` to copy a header read from another HDU.
    public func writeKeywords(_ cards: [FITSHeader.Card], hdu: Int? = nil) throws {
        for card in cards {
            try writeKeyword(card.key, card.value, comment: card.comment, hdu: hdu)
        }
    }

    /// Deletes the first card named `key` from HDU `hdu`; returns false if there was none.
    @discardableResult
    public func deleteKeyword(_ key: String, hdu: Int? = nil) throws -> Bool {
        try requireWritable()
        let key = FITSHeader.normalize(key)
        try validateKeywordName(key, hdu: hdu)
        return try withHandle(hdu: hdu) { fptr in
            var status: Int32 = 0
            ffdkey(fptr, key, &status)
            if status == KEY_NO_EXIST {
                _ = CFITSIOCall.drainMessages()
                return false
            }
            try check(status, hdu: hdu, keyword: key, "cannot delete keyword")
            return true
        }
    }

    // MARK: Validation (shared with image and table writers)

    func validateKeywordName(_ key: String, hdu: Int?) throws {
        let allowed = key.utf8.allSatisfy { byte in
            (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 45 || byte == 95
        }
        guard !key.isEmpty, key.utf8.count <= 8, allowed else {
            throw FITSError(reason: .invalidArgument, path: path, hdu: hdu, keyword: key,
                            detail: "invalid keyword name (need 1-8 characters from A-Z, 0-9, '-', '_')")
        }
    }

    func validateASCII(_ text: String, what: String, keyword: String?, hdu: Int?, column: String? = nil) throws {
        guard text.utf8.allSatisfy({ $0 >= 32 && $0 <= 126 }) else {
            throw FITSError(reason: .invalidArgument, path: path, hdu: hdu, keyword: keyword, column: column,
                            detail: "\(what) must be printable ASCII (FITS allows nothing else): \"\(text)\"")
        }
    }

    func validateStringValue(_ text: String, keyword: String, hdu: Int?) throws {
        try validateASCII(text, what: "string value", keyword: keyword, hdu: hdu)
        let escapedLength = text.utf8.count + text.utf8.filter { $0 == 39 }.count
        guard escapedLength <= 68 else {
            throw FITSError(reason: .invalidArgument, path: path, hdu: hdu, keyword: keyword,
                            detail: "string value too long for one header card (\(escapedLength) > 68 characters)")
        }
    }

    // MARK: Value text <-> FITSHeaderValue

    /// Comment of the existing `key` card, or "" if the keyword does not exist yet.
    private func existingComment(_ fptr: UnsafeMutablePointer<fitsfile>, key: String, hdu: Int) throws -> String {
        var value = CFITSIOCall.buffer(FLEN_VALUE)
        var comment = CFITSIOCall.buffer(FLEN_COMMENT)
        var status: Int32 = 0
        ffgkey(fptr, key, &value, &comment, &status)
        if status == KEY_NO_EXIST {
            _ = CFITSIOCall.drainMessages()
            return ""
        }
        try check(status, hdu: hdu, keyword: key, "cannot read existing keyword")
        return CFITSIOCall.string(fromCBuffer: comment)
    }

    /// The FITS value-field text for `value` (quoted string, T/F, integer, or real).
    static func formatValue(_ value: FITSHeaderValue, path: String, hdu: Int?, key: String) throws -> String {
        switch value {
        case let .string(s):
            var quoted = s.replacingAll("'", with: "''")
            // FITS asks for at least 8 characters between the quotes (fixed-format readers).
            while quoted.utf8.count < 8 { quoted += " " }
            return "'" + quoted + "'"
        case let .int(i):
            return String(i)
        case let .double(d):
            guard d.isFinite else {
                throw FITSError(reason: .invalidArgument, path: path, hdu: hdu, keyword: key,
                                detail: "cannot write non-finite real \(d) (FITS header syntax has no NaN or infinity)")
            }
            // Swift's description is the shortest text that round-trips; FITS wants an upper-case E.
            return d.description.replacingAll("e", with: "E")
        case let .bool(b):
            return b ? "T" : "F"
        case .none:
            return ""
        }
    }

    /// Interprets the raw value field of a card as returned by CFITSIO (`ffgkyn`).
    static func parseValue(_ raw: String) -> FITSHeaderValue {
        let text = raw.trimmingBlanks()
        if text.isEmpty { return .none }
        if text.hasPrefix("'") {
            var inner = Substring(text.dropFirst())
            if inner.hasSuffix("'") { inner = inner.dropLast() }
            var value = String(inner).replacingAll("''", with: "'")
            while value.hasSuffix(" ") { value.removeLast() }
            return .string(value)
        }
        if text == "T" { return .bool(true) }
        if text == "F" { return .bool(false) }
        if let i = Int(text) { return .int(i) }
        if let d = Double(text.replacingAll("D", with: "E").replacingAll("d", with: "e")) { return .double(d) }
        return .string(text)
    }
}

extension String {
    /// Plain substring replacement for the ASCII substitutions used in card text.
    func replacingAll(_ target: String, with replacement: String) -> String {
        replacingOccurrences(of: target, with: replacement)
    }
}
