/// A route's compression, as configured (`compression:` at the top level or on the route).
public struct CompressionSettings: Sendable, Equatable {
    /// The server's order of preference; the client's weights decide first.
    public var encodings: [ContentCoding]
    /// Responses known to be smaller go out as they are.
    public var minSize: Int
    /// Media types to compress: `type/subtype`, or `type/*`; lowercased.
    public private(set) var types: [String]
    public var levels: [ContentCoding: Int]
    /// `types` as matched: `text/*` as its major type `text`, wildcard; others whole.
    private var patterns: [Pattern]

    private struct Pattern: Sendable, Equatable {
        /// The whole type, or the major type of `type/*`, lowercased.
        let bytes: [UInt8]
        let wildcard: Bool
    }

    public static let defaultTypes = ["text/*", "application/json", "application/javascript", "application/xml",
                                      "image/svg+xml", "application/wasm"]
    public static let defaultLevels: [ContentCoding: Int] = [.gzip: 5, .br: 4, .zstd: 3]

    public init(encodings: [ContentCoding] = [.zstd, .br, .gzip], minSize: Int = 256,
                types: [String] = CompressionSettings.defaultTypes,
                levels: [ContentCoding: Int] = CompressionSettings.defaultLevels) {
        self.encodings = encodings
        self.minSize = minSize
        self.types = types.map { $0.lowercased() }
        self.levels = levels
        self.patterns = self.types.map { type in
            type.hasSuffix("/*") ? Pattern(bytes: Array(type.utf8.dropLast(2)), wildcard: true) : Pattern(bytes: Array(type.utf8), wildcard: false)
        }
    }

    /// The encodings this machine can produce on the fly, in order (zstd only with libzstd).
    public var available: [ContentCoding] { encodings.filter(\.isAvailable) }

    public func level(_ coding: ContentCoding) -> Int { levels[coding] ?? Self.defaultLevels[coding] ?? 1 }

    /// Whether a response of `contentType` (a Content-Type value, parameters ignored) is
    /// compressed. No type: no. Compared over the bytes (every response of a route).
    public func compresses(contentType: Substring) -> Bool {
        let utf8 = contentType.utf8
        var end = utf8.firstIndex(of: UInt8(ascii: ";")) ?? utf8.endIndex
        var start = utf8.startIndex
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start = utf8.index(after: start) }
        while end > start, utf8[utf8.index(before: end)] == 0x20 || utf8[utf8.index(before: end)] == 0x09 { end = utf8.index(before: end) }
        let media = utf8[start..<end]
        guard let slash = media.firstIndex(of: UInt8(ascii: "/")), slash != media.startIndex else { return false }
        let major = media[..<slash]
        for pattern in patterns where Self.equalsIgnoringCase(pattern.wildcard ? major : media, pattern.bytes) { return true }
        return false
    }

    private static func equalsIgnoringCase(_ bytes: Substring.UTF8View.SubSequence, _ lower: [UInt8]) -> Bool {
        guard bytes.count == lower.count else { return false }
        var k = 0
        for c in bytes {
            if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != lower[k] { return false }
            k += 1
        }
        return true
    }
}
