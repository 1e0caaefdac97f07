/// The content codings Tacet produces (RFC 9110 §8.4.1): the `Content-Encoding` token, the
/// suffix of a precompressed sibling file, and the suffix that tells a compressed variant's
/// ETag from the identity one's.
public enum ContentCoding: String, Sendable, CaseIterable, Hashable {
    case zstd
    case br
    case gzip

    /// The token in Accept-Encoding and Content-Encoding.
    public var token: String { rawValue }

    /// `app.js` is stored precompressed as `app.js.br`, `app.js.zst`, `app.js.gz`.
    public var fileSuffix: String {
        switch self {
        case .zstd: ".zst"
        case .br: ".br"
        case .gzip: ".gz"
        }
    }

    /// Appended inside the ETag's quotes: `"abc"` becomes `"abc-gzip"` (Caddy's form), a
    /// strong validator of its own for the compressed bytes.
    public var etagSuffix: String { "-" + rawValue }

    /// Whether this machine can produce it on the fly: zstd needs libzstd.so.1 (loaded at run
    /// time). Precompressed files of any coding are served regardless.
    public var isAvailable: Bool {
        switch self {
        case .gzip, .br: true
        case .zstd: ZstdEncoder.isAvailable
        }
    }
}
