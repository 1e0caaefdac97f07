/// The error log's level, `log_level:` in the file. Spelled like swift-log's levels so the
/// server maps it one to one; kept here as a plain enum because the config module does not
/// depend on swift-log.
public enum LogLevel: String, Sendable, Equatable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

extension ConfigNode {
    /// One of `LogLevel`'s names; anything else names the choices.
    func logLevel() throws(ConfigError) -> LogLevel {
        let text = try string()
        guard let level = LogLevel(rawValue: text) else {
            let names = LogLevel.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("unknown log level '\(text)' (expected one of: \(names))")
        }
        return level
    }
}
