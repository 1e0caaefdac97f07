/// Content-Type by file extension, like nginx's `mime.types` with `charset utf-8` for text.
///
/// Static files carry no type metadata, so the extension is all there is. Text types get an
/// explicit `charset=utf-8` so browsers do not guess a legacy encoding; unknown extensions
/// get `application/octet-stream` (download, never render: the safe default).
public enum MimeTypes {
    /// The fallback for unknown or missing extensions.
    public static let defaultType = "application/octet-stream"

    private static let utf8 = "; charset=utf-8"

    /// Lowercase extension → media type.
    public static let table: [String: String] = [
        // Text and web documents.
        "html": "text/html" + utf8,
        "htm": "text/html" + utf8,
        "shtml": "text/html" + utf8,
        "css": "text/css" + utf8,
        "js": "text/javascript" + utf8, // RFC 9239
        "mjs": "text/javascript" + utf8,
        "txt": "text/plain" + utf8,
        "text": "text/plain" + utf8,
        "log": "text/plain" + utf8,
        "csv": "text/csv" + utf8,
        "tsv": "text/tab-separated-values" + utf8,
        "md": "text/markdown" + utf8,
        "markdown": "text/markdown" + utf8,
        "xml": "text/xml" + utf8,
        "ics": "text/calendar" + utf8,
        "vtt": "text/vtt" + utf8,
        "yaml": "text/yaml" + utf8,
        "yml": "text/yaml" + utf8,
        // JSON is UTF-8 by definition (RFC 8259) and defines no charset parameter.
        "json": "application/json",
        "map": "application/json",
        "webmanifest": "application/manifest+json",
        "jsonld": "application/ld+json",
        "rss": "application/rss+xml",
        "atom": "application/atom+xml",
        "xhtml": "application/xhtml+xml",
        "wasm": "application/wasm",
        "pdf": "application/pdf",
        // Images.
        "svg": "image/svg+xml",
        "png": "image/png",
        "apng": "image/apng",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "avif": "image/avif",
        "ico": "image/x-icon",
        "bmp": "image/bmp",
        "tif": "image/tiff",
        "tiff": "image/tiff",
        // Fonts.
        "woff": "font/woff",
        "woff2": "font/woff2",
        "ttf": "font/ttf",
        "otf": "font/otf",
        // Audio and video.
        "mp3": "audio/mpeg",
        "ogg": "audio/ogg",
        "oga": "audio/ogg",
        "opus": "audio/ogg",
        "wav": "audio/wav",
        "flac": "audio/flac",
        "m4a": "audio/mp4",
        "aac": "audio/aac",
        "mp4": "video/mp4",
        "m4v": "video/mp4",
        "webm": "video/webm",
        "ogv": "video/ogg",
        "mov": "video/quicktime",
        "mkv": "video/x-matroska",
        // Archives.
        "zip": "application/zip",
        "gz": "application/gzip",
        "tgz": "application/gzip",
        "tar": "application/x-tar",
        "bz2": "application/x-bzip2",
        "xz": "application/x-xz",
        "zst": "application/zstd",
        "7z": "application/x-7z-compressed",
    ]

    /// The Content-Type for a file path (or URL path), chosen by its extension, case-insensitively.
    ///
    /// The extension is what follows the last `.` of the last path component; a leading dot
    /// (`.htaccess`) starts a hidden name, not an extension.
    public static func contentType(forPath path: String) -> String {
        // Bytes, not Characters: this runs for every file served.
        let utf8 = path.utf8
        let nameStart = utf8.lastIndex(of: UInt8(ascii: "/")).map { utf8.index(after: $0) } ?? utf8.startIndex
        guard let dot = utf8[nameStart...].lastIndex(of: UInt8(ascii: ".")), dot != nameStart else { return defaultType }
        let extBytes = utf8[utf8.index(after: dot)...]
        if extBytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) {
            return table[String(decoding: extBytes, as: UTF8.self).lowercased()] ?? defaultType
        }
        return table[String(decoding: extBytes, as: UTF8.self)] ?? defaultType
    }
}
