import NIOHPACK
import NIOHTTP1
import TacetHTTP

/// An HTTP/2 request's header block as the `Request` every route takes (RFC 9113 §8.3): the
/// pseudo-fields become method, target and Host; split cookies are joined for HTTP/1.1
/// upstreams (§8.2.3); the body's framing comes from END_STREAM and Content-Length. What §8.1.1
/// calls malformed (uppercase or invalid names, connection-specific fields, CR/LF/NUL or
/// surrounding whitespace in values, misplaced, repeated, unknown or missing pseudo-fields) is a
/// stream error; what HTTP/1.1 would refuse with a status gets the same status here (431, 414,
/// 413, 400, 501). Pure: no channel, fuzz-tested.
enum RequestHead {
    enum Refusal: Error, Equatable {
        /// A stream error PROTOCOL_ERROR (§8.1.1), no answer.
        case malformed(String)
        /// Answered with this status and reason, as HTTP/1.1 would.
        case refused(Int, String)

        static func from(_ error: RequestError) -> Refusal { .refused(Int(error.status.code), error.reason) }
        static let notImplemented = Refusal.refused(501, "CONNECT is not supported over HTTP/2")

        var status: Int { if case .refused(let code, _) = self { code } else { 400 } }
        var reason: String {
            switch self {
            case .malformed(let why), .refused(_, let why): why
            }
        }
    }

    /// A refused request's line for the access log, as HTTP/1.1 logs one: its :method and
    /// :path when both are there and sane (a 414's target is not: HTTP/1.1 never reads it whole).
    static func refusedLine(_ block: HPACKHeaders, status: Int) -> RefusedRequestLine? {
        guard status != 414 else { return nil }
        var method: String?
        var path: String?
        for (name, value, _) in block {
            guard name.utf8.first == UInt8(ascii: ":") else { break }
            if name == ":method" { method = value } else if name == ":path" { path = value }
        }
        guard let method, let path, !method.isEmpty, !path.isEmpty,
              method.utf8.allSatisfy(CharacterClass.isToken),
              path.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return nil }
        return RefusedRequestLine(method: method, target: path, version: "HTTP/2.0")
    }

    static func request(from block: HPACKHeaders, endStream: Bool, limits: RequestParser.Limits) -> Result<Request, Refusal> {
        var method: String?
        var scheme: String?
        var path: String?
        var authority: String?
        var host: String?
        var headers = HTTPHeaders()
        var cookies: [String] = []
        var contentLength: Int?
        var size = 0
        var regularSeen = false
        for (name, value, _) in block {
            size += name.utf8.count + value.utf8.count + 32
            if let why = Self.invalidValue(value) { return .failure(.malformed("\(why) in \(name)")) }
            if name.utf8.first == UInt8(ascii: ":") {
                guard !regularSeen else { return .failure(.malformed("pseudo-header \(name) after regular fields")) }
                switch name {
                case ":method": guard method == nil else { return .failure(.malformed("repeated :method")) }; method = value
                case ":scheme": guard scheme == nil else { return .failure(.malformed("repeated :scheme")) }; scheme = value
                case ":path": guard path == nil else { return .failure(.malformed("repeated :path")) }; path = value
                case ":authority": guard authority == nil else { return .failure(.malformed("repeated :authority")) }; authority = value
                case ":protocol": return .failure(.refused(501, "extended CONNECT is not supported"))
                default: return .failure(.malformed("unknown pseudo-header \(name)"))
                }
                continue
            }
            regularSeen = true
            guard Self.isLowercaseToken(name) else { return .failure(.malformed("invalid field name")) }
            switch name {
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
                return .failure(.malformed("connection-specific field \(name)"))
            case "te":
                guard value == "trailers" else { return .failure(.malformed("te other than trailers")) }
                headers.add(name: name, value: value)
            case "host": if host == nil { host = value }
            case "cookie": cookies.append(value)
            case "content-length":
                switch FieldNames.contentLength(value.utf8, merging: contentLength) {
                case .value(let n): contentLength = n
                case .invalid: return .failure(.malformed("invalid content-length"))
                case .conflicting: return .failure(.malformed("conflicting content-length"))
                }
            default:
                headers.add(name: name, value: value)
            }
        }
        guard let method, Self.isToken(method) else { return .failure(.malformed("missing or invalid :method")) }
        if method == "CONNECT" { return .failure(.notImplemented) }
        guard scheme != nil else { return .failure(.malformed("missing :scheme")) }
        guard let path, !path.isEmpty else { return .failure(.malformed("missing or empty :path")) }
        guard size <= limits.maxHeaderSize else { return .failure(.from(.headersTooLarge)) }
        guard path.utf8.count <= limits.maxRequestLine else { return .failure(.from(.requestLineTooLong)) }
        guard Self.isValidTarget(path, method: method) else { return .failure(.from(.malformed("invalid :path"))) }
        let hostField = authority ?? host
        guard let hostField, !hostField.isEmpty, let hostName = FieldNames.hostWithoutPort(hostField) else {
            return .failure(.from(.malformed("missing or invalid :authority")))
        }
        headers.replaceOrAdd(name: "host", value: hostField)
        if !cookies.isEmpty { headers.add(name: "cookie", value: cookies.joined(separator: "; ")) }
        if let contentLength {
            headers.add(name: "content-length", value: String(contentLength))
            if contentLength > limits.maxBodySize { return .failure(.from(.bodyTooLarge)) }
        }
        let framing: BodyFraming
        if endStream {
            framing = .none
        } else if let contentLength {
            framing = contentLength == 0 ? .none : .length(contentLength)
        } else {
            framing = .chunked  // length unknown: DATA frames until END_STREAM
        }
        return .success(Request(method: HTTPMethod(rawValue: method), target: path, version: HTTPVersion(major: 2, minor: 0),
                                headers: headers, keepAlive: true, framing: framing, expectsContinue: false,
                                host: hostName))
    }

    /// A trailer block may carry no pseudo-header (§8.1).
    static func validTrailers(_ block: HPACKHeaders) -> Bool {
        block.allSatisfy { name, value, _ in
            name.utf8.first != UInt8(ascii: ":") && isLowercaseToken(name) && invalidValue(value) == nil
        }
    }

    /// RFC 9110 §5.6.2 token characters.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { CharacterClass.isToken($0) }
    }

    /// A field name as HTTP/2 carries it: a token without uppercase letters (§8.2.1).
    static func isLowercaseToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { CharacterClass.isToken($0) && !($0 >= 0x41 && $0 <= 0x5A) }
    }

    /// NUL, CR or LF anywhere, or whitespace at either end, make a value malformed (§8.2.1).
    static func invalidValue(_ value: String) -> String? {
        let bytes = value.utf8
        if bytes.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) { return "NUL, CR or LF" }
        if let first = bytes.first, first == 0x20 || first == 0x09 { return "leading whitespace" }
        if let last = bytes.last, last == 0x20 || last == 0x09 { return "trailing whitespace" }
        return nil
    }

    /// Origin-form (`/...`), or `*` for OPTIONS; visible ASCII only, as the HTTP/1.1 parser wants.
    static func isValidTarget(_ path: String, method: String) -> Bool {
        if path == "*" { return method == "OPTIONS" }
        guard path.utf8.first == UInt8(ascii: "/") else { return false }
        return path.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
