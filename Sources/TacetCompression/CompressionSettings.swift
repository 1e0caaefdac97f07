/// A route's compression, as configured (`compression:` at the top level or on the route).
public struct CompressionSettings: Sendable, Equatable {
    /// The server's order of preference; the client's weights decide first.
    public var encodings: [ContentCoding]
    /// Responses known to be smaller go out as they are.
    public var minSize: Int
    /// Media types to compress: `type/subtype`, or `type/*`; lowercased.
    public var types: [String]
    public var levels: [ContentCoding: Int]

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
    }

    /// The encodings this machine can produce on the fly, in order (zstd only with libzstd).
    public var available: [ContentCoding] { encodings.filter(\.isAvailable) }

    public func level(_ coding: ContentCoding) -> Int { levels[coding] ?? Self.defaultLevels[coding] ?? 1 }

    /// Whether a response of `contentType` (a Content-Type value, parameters ignored) is
    /// compressed. No type: no.
    public func compresses(contentType: Substring) -> Bool {
        var media = contentType
        if let semicolon = media.firstIndex(of: ";") { media = media[..<semicolon] }
        while media.last == " " || media.last == "\t" { media = media.dropLast() }
        while media.first == " " || media.first == "\t" { media = media.dropFirst() }
        let lowered = media.lowercased()
        guard let slash = lowered.firstIndex(of: "/"), slash != lowered.startIndex else { return false }
        let major = lowered[..<slash]
        for type in types {
            if type.hasSuffix("/*") {
                if type.dropLast(2) == major { return true }
            } else if type == lowered {
                return true
            }
        }
        return false
    }
}
