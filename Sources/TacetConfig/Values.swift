/// Typed readers for the scalar grammars in `Units`, adding the node's position to failures.
extension ConfigNode {
    /// `true`/`on`/`yes` or `false`/`off`/`no`; `key` names it in the error.
    func flag(_ key: String) throws(ConfigError) -> Bool {
        switch try string() {
        case "true", "on", "yes": return true
        case "false", "off", "no": return false
        case let other: throw error("\(key) must be true or false, not '\(other)'")
        }
    }

    func size() throws(ConfigError) -> Int {
        let text = try quantityText(expected: "a size")
        return try check(Units.size(text), expected: "a size (\(Units.sizeExamples))")
    }

    func duration() throws(ConfigError) -> Duration {
        let text = try quantityText(expected: "a duration")
        return try check(Units.duration(text), expected: "a duration (\(Units.durationExamples))")
    }

    func positiveInteger() throws(ConfigError) -> Int {
        let text = try quantityText(expected: "a positive integer")
        return try check(Units.positiveInteger(text), expected: "a positive integer")
    }

    /// A plain integer in `range`, e.g. an HTTP status.
    func integer(in range: ClosedRange<Int>, what: String) throws(ConfigError) -> Int {
        let text = try quantityText(expected: what)
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text) else {
            throw mismatch(expected: what)
        }
        guard range.contains(value) else {
            throw error("must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        return value
    }

    private func quantityText(expected: String) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw mismatch(expected: expected)
        }
        return scalar.string
    }

    private func check<Value>(_ parsed: Units.Parsed<Value>, expected: String) throws(ConfigError) -> Value {
        switch parsed {
        case .value(let value): return value
        case .malformed: throw mismatch(expected: expected)
        case .notPositive: throw error("must be greater than zero, got \(kindDescription)")
        case .tooLarge: throw error("too large: \(kindDescription)")
        }
    }
}
