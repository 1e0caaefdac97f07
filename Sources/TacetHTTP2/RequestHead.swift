import NIOHPACK
import NIOHTTP1
import TacetHTTP

/// An HTTP/2 request's header block as the `Request` every route takes (RFC 9113 §8.3): the
/// pseudo-fields become method, target and Host; split cookies are joined for HTTP/1.1
/// upstreams (§8.2.3); the body's framing comes from END_STREAM and Content-Length. NIOHTTP2
/// has already refused what §8.2 calls malformed (uppercase names, connection-specific fields,
/// CR/LF/NUL in values, misplaced or repeated pseudo-fields); this refuses the rest that a
/// route or an HTTP/1.1 upstream could be confused by. Pure: no channel, fuzz-tested.
enum RequestHead {
    enum Refusal: Error, Equatable {
        /// 400 with this reason.
        case badRequest(String)
        /// 413: the announced body is over the limit.
        case tooLarge
        /// 501: CONNECT (no tunnels over HTTP/2 here) or an extended CONNECT.
        case notImplemented(String)
    }

    static func request(from block: HPACKHeaders, endStream: Bool, limits: RequestParser.Limits) -> Result<Request, Refusal> {
        var method: String?
        var path: String?
        var authority: String?
        var headers = HTTPHeaders()
        var cookies: [String] = []
        var contentLength: Int?
        var size = 0
        for (name, value, _) in block {
            size += name.utf8.count + value.utf8.count + 32
            guard size <= limits.maxHeaderSize else { return .failure(.badRequest("request header fields too large")) }
            switch name {
            case ":method": method = value
            case ":path": path = value
            case ":authority": authority = value
            case ":scheme": break
            case ":protocol": return .failure(.notImplemented("extended CONNECT is not supported"))
            case "host": if authority == nil { authority = value }
            case "cookie": cookies.append(value)
            case "content-length":
                switch FieldNames.contentLength(value.utf8, merging: contentLength) {
                case .value(let n): contentLength = n
                case .invalid: return .failure(.badRequest("invalid Content-Length"))
                case .conflicting: return .failure(.badRequest("conflicting Content-Length"))
                }
            default:
                if name.hasPrefix(":") { return .failure(.badRequest("unknown pseudo-header \(name)")) }
                headers.add(name: name, value: value)
            }
        }
        guard let method else { return .failure(.badRequest("missing :method")) }
        guard Self.isToken(method) else { return .failure(.badRequest("invalid method")) }
        if method == "CONNECT" { return .failure(.notImplemented("CONNECT is not supported over HTTP/2")) }
        guard let path, Self.isValidTarget(path, method: method) else { return .failure(.badRequest("invalid :path")) }
        guard path.utf8.count <= limits.maxRequestLine else { return .failure(.badRequest("request target too long")) }
        guard let authority, !authority.isEmpty, let host = FieldNames.hostWithoutPort(authority) else {
            return .failure(.badRequest("missing or invalid :authority"))
        }
        headers.replaceOrAdd(name: "host", value: authority)
        if !cookies.isEmpty { headers.add(name: "cookie", value: cookies.joined(separator: "; ")) }
        if let contentLength {
            headers.add(name: "content-length", value: String(contentLength))
            if contentLength > limits.maxBodySize { return .failure(.tooLarge) }
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
                                host: host))
    }

    /// RFC 9110 §5.6.2 token characters.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { CharacterClass.isToken($0) }
    }

    /// Origin-form (`/...`), or `*` for OPTIONS; visible ASCII only, as the HTTP/1.1 parser wants.
    static func isValidTarget(_ path: String, method: String) -> Bool {
        if path == "*" { return method == "OPTIONS" }
        guard path.utf8.first == UInt8(ascii: "/") else { return false }
        return path.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
