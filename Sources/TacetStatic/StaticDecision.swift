import NIOHTTP1
import TacetHTTP

/// The response a static file request gets, with every header value it needs precomputed.
///
/// The responder copies `status` and `headers`, adds Content-Type (`MimeTypes`), Date and
/// connection headers, then sends `bodyRange` of the file (GET) or nothing (HEAD).
/// 405, 412 and 416 carry no file body; the responder supplies its own (with its Content-Length).
public enum Decision: Sendable, Hashable {
    /// 405: only GET and HEAD make sense for a file.
    case methodNotAllowed(allow: String)
    /// 412: If-Match or If-Unmodified-Since failed (RFC 9110 §13.2.2 steps 1-2).
    case preconditionFailed
    /// 304: the client's cached copy is current.
    case notModified(etag: String, lastModified: String)
    /// 200 with the whole file.
    case full(size: Int, etag: String, lastModified: String)
    /// 206 with bytes `start...end` of a file of `size` bytes.
    case partial(start: Int, end: Int, size: Int, etag: String, lastModified: String)
    /// 416: the range starts past the end.
    case rangeNotSatisfiable(size: Int)

    public var status: HTTPResponseStatus {
        switch self {
        case .methodNotAllowed: return .methodNotAllowed
        case .preconditionFailed: return .preconditionFailed
        case .notModified: return .notModified
        case .full: return .ok
        case .partial: return .partialContent
        case .rangeNotSatisfiable: return .rangeNotSatisfiable
        }
    }

    /// The header fields specific to this decision, ready to copy into the response head.
    /// Content-Length is included where the body is file bytes (200, 206), the same for HEAD.
    public var headers: HTTPHeaders {
        switch self {
        case .methodNotAllowed(let allow):
            return HTTPHeaders([("Allow", allow)])
        case .preconditionFailed:
            return HTTPHeaders()
        case .notModified(let etag, let lastModified):
            return HTTPHeaders([("ETag", etag), ("Last-Modified", lastModified)])
        case .full(let size, let etag, let lastModified):
            return HTTPHeaders([
                ("ETag", etag), ("Last-Modified", lastModified),
                ("Accept-Ranges", "bytes"), ("Content-Length", String(size)),
            ])
        case .partial(let start, let end, let size, let etag, let lastModified):
            return HTTPHeaders([
                ("ETag", etag), ("Last-Modified", lastModified), ("Accept-Ranges", "bytes"),
                ("Content-Range", "bytes \(start)-\(end)/\(size)"), ("Content-Length", String(end - start + 1)),
            ])
        case .rangeNotSatisfiable(let size):
            return HTTPHeaders([("Accept-Ranges", "bytes"), ("Content-Range", "bytes */\(size)")])
        }
    }

    /// The file bytes to send for GET (offsets, half-open); `nil` when the body is not the file.
    public var bodyRange: Range<Int>? {
        switch self {
        case .full(let size, _, _): return 0..<size
        case .partial(let start, let end, _, _, _): return start..<(end + 1)
        default: return nil
        }
    }
}

/// Conditional and range evaluation for a resolved file, in the order of RFC 9110 §13.2.2.
///
/// 1. If-Match (strong) false → 412. 2. Else If-Unmodified-Since older than mtime → 412.
/// 3. If-None-Match (weak) matches → 304. 4. Else If-Modified-Since not older than mtime → 304.
/// 5. Range (GET only), honoured only if If-Range is absent or matches (strong ETag or exact
/// Last-Modified date); otherwise the whole file. Unparseable dates make their field ignored.
public enum StaticDecision {
    /// The Allow value for files.
    public static let allowedMethods = "GET, HEAD"

    /// Decides the response for `method` on a file described by `info`, given the request headers.
    public static func decide(method: HTTPMethod, headers: HTTPHeaders, info: FileInfo) -> Decision {
        guard method == .GET || method == .HEAD else { return .methodNotAllowed(allow: allowedMethods) }
        let (etag, lastModified) = Validators.current.values(for: info)
        // Most requests carry no conditional or range field: one pass over the names settles it.
        guard headers.contains(where: { Self.isConditionalOrRange($0.name) }) else {
            return .full(size: info.size, etag: etag, lastModified: lastModified)
        }

        // 1-2: state-changing preconditions; for GET/HEAD they still apply (RFC 9110 §13.2.2).
        let ifMatch = headers["If-Match"]
        if !ifMatch.isEmpty {
            guard EntityTagList(ifMatch).matches(etag, weak: false) else { return .preconditionFailed }
        } else if let date = singleDate(headers["If-Unmodified-Since"]), info.mtimeSeconds > date {
            return .preconditionFailed
        }

        // 3-4: cache validation. If-None-Match, when present, makes If-Modified-Since irrelevant.
        let ifNoneMatch = headers["If-None-Match"]
        if !ifNoneMatch.isEmpty {
            if EntityTagList(ifNoneMatch).matches(etag, weak: true) {
                return .notModified(etag: etag, lastModified: lastModified)
            }
        } else if let date = singleDate(headers["If-Modified-Since"]), info.mtimeSeconds <= date {
            return .notModified(etag: etag, lastModified: lastModified)
        }

        // 5: ranges are defined for GET only; a repeated Range field is ambiguous and ignored.
        let full = Decision.full(size: info.size, etag: etag, lastModified: lastModified)
        let range = headers["Range"]
        guard method == .GET, range.count == 1, let rangeValue = range.first else { return full }
        let ifRange = headers["If-Range"]
        if !ifRange.isEmpty {
            guard ifRange.count == 1, let value = ifRange.first,
                  ifRangeMatches(value, etag: etag, mtime: info.mtimeSeconds)
            else { return full }
        }
        switch ByteRange.parse(rangeValue, size: info.size) {
        case .none: return full
        case .unsatisfiable: return .rangeNotSatisfiable(size: info.size)
        case .satisfiable(let start, let end):
            return .partial(start: start, end: end, size: info.size, etag: etag, lastModified: lastModified)
        }
    }

    /// If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range, Range.
    static func isConditionalOrRange(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        switch first | 0x20 {
        case UInt8(ascii: "i"):
            return name.utf8.count >= 3 && name.utf8.dropFirst().first.map { $0 | 0x20 == UInt8(ascii: "f") } == true
                && name.utf8.dropFirst(2).first == UInt8(ascii: "-")
        case UInt8(ascii: "r"):
            return name.lowercasedASCIIEquals("range")
        default:
            return false
        }
    }

    /// If-Range holds an entity-tag (strong comparison) or a date (exact match with Last-Modified).
    private static func ifRangeMatches(_ value: String, etag: String, mtime: Int) -> Bool {
        let trimmed = value.trimmingOWS()
        if trimmed.hasPrefix("\"") || trimmed.hasPrefix("W/") {
            let list = EntityTagList([String(trimmed)])
            return list.tags.count == 1 && list.matches(etag, weak: false)
        }
        return HTTPDate.parse(String(trimmed)) == mtime
    }

    /// A date field is ignored if repeated or not a valid HTTP-date (RFC 9110 §13.1.3).
    private static func singleDate(_ values: [String]) -> Int? {
        guard values.count == 1, let value = values.first else { return nil }
        return HTTPDate.parse(value)
    }
}

/// A parsed `If-Match` / `If-None-Match` value: `*` or a list of entity-tags.
///
/// Parsing stops at the first malformed element; the tags before it still count. A malformed
/// list therefore matches less, which errs toward sending the full response.
struct EntityTagList {
    var any = false
    var tags: [(weak: Bool, opaque: Substring)] = []

    init(_ fieldValues: [String]) {
        for field in fieldValues {
            var rest = Substring(field)
            while true {
                rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
                if rest.isEmpty { break }
                if rest.first == "*" {
                    any = true
                    rest = rest.dropFirst()
                    continue
                }
                var weak = false
                if rest.hasPrefix("W/") {
                    weak = true
                    rest = rest.dropFirst(2)
                }
                guard rest.first == "\"" else { break }
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: "\"") else { break }
                tags.append((weak, body[..<close]))
                rest = body[body.index(after: close)...]
            }
        }
    }

    /// Strong comparison requires both tags strong; weak comparison compares opaque parts only.
    func matches(_ etag: String, weak weakComparison: Bool) -> Bool {
        if any { return true }
        let ours = etag.hasPrefix("W/") ? etag.dropFirst(3).dropLast() : etag.dropFirst().dropLast()
        let oursWeak = etag.hasPrefix("W/")
        return tags.contains { tag in
            tag.opaque == ours && (weakComparison || (!tag.weak && !oursWeak))
        }
    }
}
