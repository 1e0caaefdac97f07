/// `compression:` at the top level (every route's default) or on a route (its own, or `off`).
public struct CompressionConfig: Sendable, Equatable {
    /// Codings in the server's order of preference: `zstd`, `br`, `gzip`.
    public var encodings: [String] = CompressionConfig.knownEncodings
    /// Responses known to be smaller go out as they are.
    public var minSize = 256
    /// `type/subtype` or `type/*`, lowercased.
    public var types = ["text/*", "application/json", "application/javascript", "application/xml",
                        "image/svg+xml", "application/wasm"]
    /// Per coding; the default levels are the ones `levelRanges` names first.
    public var levels: [String: Int] = ["gzip": 5, "br": 4, "zstd": 3]
    /// Where the block is in the file, for `tacet check`'s notes.
    public var line = 0

    public static let knownEncodings = ["zstd", "br", "gzip"]
    public static let levelRanges: [String: ClosedRange<Int>] = ["gzip": 1...9, "br": 0...11, "zstd": 1...19]

    public init() {}
}

/// A route's `compression:`: its own settings, or `off` (a route mixing secrets with reflected
/// input, against BREACH). Absent: the top level's.
public enum RouteCompression: Sendable, Equatable {
    case off
    case on(CompressionConfig)
}

/// Reads `compression:` blocks.
enum CompressionParser {
    /// `inherited`: the top level's block, which a route's keys override one by one.
    static func parse(_ node: ConfigNode, inherited: CompressionConfig?) throws(ConfigError) -> RouteCompression {
        if case .scalar = node.node {
            switch try node.string() {
            case "off", "false", "no": return .off
            case "on", "true", "yes": return .on(inherited ?? CompressionConfig())
            case let other: throw node.error("must be off, on, or a mapping, not '\(other)'")
            }
        }
        let map = try node.mapping(allowedKeys: ["encodings", "min_size", "types", "level"])
        var config = inherited ?? CompressionConfig()
        config.line = node.line
        if let list = map["encodings"] {
            var encodings: [String] = []
            for item in try list.sequence() {
                let name = try item.nonEmptyString().lowercased()
                guard CompressionConfig.knownEncodings.contains(name) else {
                    throw item.error("unknown encoding '\(name)' (expected one of: \(CompressionConfig.knownEncodings.joined(separator: ", ")))")
                }
                guard !encodings.contains(name) else { throw item.error("'\(name)' is listed twice") }
                encodings.append(name)
            }
            guard !encodings.isEmpty else { throw list.error("must list at least one encoding (or say compression: off)") }
            config.encodings = encodings
        }
        if let size = map["min_size"] {
            config.minSize = (try? size.string()) == "0" ? 0 : try size.size()
        }
        if let list = map["types"] {
            var types: [String] = []
            for item in try list.sequence() {
                let type = try item.nonEmptyString().lowercased()
                guard isMediaRange(type) else {
                    throw item.error("'\(type)' is not a media type (type/subtype or type/*)")
                }
                types.append(type)
            }
            guard !types.isEmpty else { throw list.error("must list at least one media type") }
            config.types = types
        }
        if let levels = map["level"] {
            let entries = try levels.mapping(allowedKeys: CompressionConfig.knownEncodings)
            for entry in entries.entries {
                let range = CompressionConfig.levelRanges[entry.key] ?? 1...9
                config.levels[entry.key] = try entry.value.integer(in: range, what: "a \(entry.key) level (\(range.lowerBound)...\(range.upperBound))")
            }
        }
        return .on(config)
    }

    /// `text/html`, `text/*`: two tokens; `*` only as the whole subtype.
    static func isMediaRange(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0] != "*" else { return false }
        let token: (Substring) -> Bool = { $0.unicodeScalars.allSatisfy(FixedResponseParser.isTokenCharacter) }
        return token(parts[0]) && (parts[1] == "*" || (token(parts[1]) && !parts[1].contains("*")))
    }
}
