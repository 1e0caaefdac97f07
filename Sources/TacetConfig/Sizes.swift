/// Human-friendly sizes and durations as written in the config file.
///
/// Kept free of YAML so the grammar is testable on its own; callers add the file position.
/// Suffixes are binary (k = 1024) because the limits they set are buffer sizes.
enum Units {
    /// The outcome of reading a quantity: a value, or why the text is not one.
    enum Parsed<Value: Sendable & Equatable>: Sendable, Equatable {
        case value(Value)
        /// Not in the grammar at all.
        case malformed
        /// Well-formed but zero or negative.
        case notPositive
        /// Does not fit in the value type.
        case tooLarge
    }

    static let sizeExamples = "e.g. 512, 8k, 1m, 1g"
    static let durationExamples = "e.g. 500ms, 60s, 5m, 1h"

    /// `512` (bytes), `8k`/`8K`, `1m`/`1M`, `1g`/`1G`.
    static func size(_ text: String) -> Parsed<Int> {
        let (sign, digits, suffix) = split(text)
        let multiplier: Int
        switch suffix {
        case "": multiplier = 1
        case "k", "K": multiplier = 1 << 10
        case "m", "M": multiplier = 1 << 20
        case "g", "G": multiplier = 1 << 30
        default: return .malformed
        }
        return scaled(sign: sign, digits: digits, by: multiplier)
    }

    /// A bare integer is seconds; otherwise `ms`, `s`, `m`, `h` or `d`.
    static func duration(_ text: String) -> Parsed<Duration> {
        let (sign, digits, suffix) = split(text)
        switch suffix {
        case "ms":
            return scaled(sign: sign, digits: digits, by: 1).map { .milliseconds($0) }
        case "", "s":
            return scaled(sign: sign, digits: digits, by: 1).map { .seconds($0) }
        case "m":
            return scaled(sign: sign, digits: digits, by: 60).map { .seconds($0) }
        case "h":
            return scaled(sign: sign, digits: digits, by: 3600).map { .seconds($0) }
        case "d":
            return scaled(sign: sign, digits: digits, by: 86_400).map { .seconds($0) }
        default:
            return .malformed
        }
    }

    /// A strictly positive decimal integer with no suffix (counts such as `max_connections`).
    static func positiveInteger(_ text: String) -> Parsed<Int> {
        let (sign, digits, suffix) = split(text)
        guard suffix.isEmpty else { return .malformed }
        return scaled(sign: sign, digits: digits, by: 1)
    }

    /// Splits `-12ms` into ("-", "12", "ms"). The sign is kept only to report "must be positive"
    /// rather than "malformed" for negative numbers.
    private static func split(_ text: String) -> (sign: Substring, digits: Substring, suffix: Substring) {
        var rest = Substring(text)
        let sign = rest.prefix { $0 == "-" || $0 == "+" }
        rest = rest.dropFirst(sign.count)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        return (sign, digits, rest.dropFirst(digits.count))
    }

    private static func scaled(sign: Substring, digits: Substring, by multiplier: Int) -> Parsed<Int> {
        guard sign.count <= 1, !digits.isEmpty else { return .malformed }
        guard let number = Int(digits) else { return sign == "-" ? .notPositive : .tooLarge }
        guard sign != "-", number > 0 else { return .notPositive }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? .tooLarge : .value(product)
    }
}

extension Units.Parsed {
    func map<Other>(_ transform: (Value) -> Other) -> Units.Parsed<Other> {
        switch self {
        case .value(let value): return .value(transform(value))
        case .malformed: return .malformed
        case .notPositive: return .notPositive
        case .tooLarge: return .tooLarge
        }
    }
}
