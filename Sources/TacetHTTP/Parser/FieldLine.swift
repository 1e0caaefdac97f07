/// One line of a head's field section, read from its bytes: what the request parser, the
/// upstream response parser and chunked trailers all read with, so they cannot disagree.
///
/// RFC 9112 §5: `field-name ":" OWS field-value OWS CRLF`. Strict where leniency lets a head mean
/// two things to two parsers: obs-fold, whitespace before the colon, a bare CR, and (when
/// `requireCRLF`) a bare LF are errors, never guesses.
public enum FieldLine {
    public enum Line: Equatable, Sendable {
        /// A field: its name and its value (OWS trimmed) as ranges of the bytes.
        case field(name: Range<Int>, value: Range<Int>)
        /// The empty line that ends the section.
        case end
    }

    /// Reads the line that starts at `start` and ends at the LF at `lf`.
    @inlinable
    public static func read(_ bytes: UnsafeRawBufferPointer, from start: Int, lf: Int,
                            requireCRLF: Bool) -> Result<Line, FieldLineError> {
        var end = lf
        if end > start && bytes[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        } else if requireCRLF {
            return .failure(.bareLF)
        }
        if end == start { return .success(.end) }
        let first = bytes[start]
        if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { return .failure(.obsFold) }
        guard let colon = CharacterClass.firstIndex(of: UInt8(ascii: ":"), in: bytes, start, end), colon > start else {
            return .failure(.noColon)
        }
        for i in start..<colon where !CharacterClass.isToken(bytes[i]) {
            let b = bytes[i]
            return .failure(b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") ? .spaceBeforeColon : .badName)
        }
        var valueStart = colon + 1
        var valueEnd = end
        while valueStart < valueEnd && isOWS(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart && isOWS(bytes[valueEnd - 1]) { valueEnd -= 1 }
        for i in valueStart..<valueEnd where !CharacterClass.isFieldValue(bytes[i]) {
            return .failure(bytes[i] == UInt8(ascii: "\r") ? .bareCR : .badValue)
        }
        return .success(.field(name: start..<colon, value: valueStart..<valueEnd))
    }

    @inlinable
    public static func isOWS(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
}

/// Why a field line was refused; `reason` is what a 400 body and the logs say.
public enum FieldLineError: Error, Equatable, Sendable {
    case bareLF, obsFold, noColon, spaceBeforeColon, badName, bareCR, badValue

    public var reason: String {
        switch self {
        case .bareLF: return "bare LF line ending"
        case .obsFold: return "obsolete line folding"
        case .noColon: return "malformed header line"
        case .spaceBeforeColon: return "whitespace before colon"
        case .badName: return "bad header name"
        case .bareCR: return "bare CR in header"
        case .badValue: return "bad character in header value"
        }
    }
}
