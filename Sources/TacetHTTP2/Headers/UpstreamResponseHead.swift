import NIOHPACK
import NIOHTTP1
import TacetHTTP

/// An HTTP/2 upstream's response header block, checked as strictly as a client's request
/// (RFC 9113 §8.1.1, §8.3.2): exactly one `:status` of three digits and no other pseudo-field,
/// before every regular field; lowercase token names; no connection-specific field; no NUL, CR,
/// LF or surrounding whitespace in values; one Content-Length. A 1xx is interim (more HEADERS
/// follow; 101 is refused, HTTP/2 has no upgrade). Anything else is malformed: the proxy answers
/// 502 and resets the upstream stream (PROTOCOL_ERROR) instead of passing a guess on. Pure, for
/// the client role (issue #22).
package enum UpstreamResponseHead {
    package struct Head: Equatable {
        package var status: Int
        package var headers: HTTPHeaders
        package var contentLength: Int?
        package var isInterim: Bool { status < 200 }
    }

    static func parse(_ block: HPACKHeaders) -> Result<Head, RequestHead.Refusal> {
        var status: Int?
        var headers = HTTPHeaders()
        var contentLength: Int?
        var regularSeen = false
        for (name, value, _) in block {
            if let why = RequestHead.invalidValue(value) { return .failure(.malformed("\(why) in \(name)")) }
            if name.utf8.first == UInt8(ascii: ":") {
                guard !regularSeen else { return .failure(.malformed("pseudo-header \(name) after regular fields")) }
                guard name == ":status" else { return .failure(.malformed("pseudo-header \(name) in a response")) }
                guard status == nil else { return .failure(.malformed("repeated :status")) }
                guard value.utf8.count == 3, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let code = Int(value),
                      code >= 100 else { return .failure(.malformed("invalid :status")) }
                status = code
                continue
            }
            regularSeen = true
            guard RequestHead.isLowercaseToken(name) else { return .failure(.malformed("invalid field name")) }
            switch name {
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te":
                return .failure(.malformed("connection-specific field \(name)"))
            case "content-length":
                switch FieldNames.contentLength(value.utf8, merging: contentLength) {
                case .value(let n): contentLength = n
                case .invalid: return .failure(.malformed("invalid content-length"))
                case .conflicting: return .failure(.malformed("conflicting content-length"))
                }
                headers.add(name: name, value: value)
            default:
                headers.add(name: name, value: value)
            }
        }
        guard let status else { return .failure(.malformed("missing :status")) }
        guard status != 101 else { return .failure(.malformed("101 over HTTP/2")) }
        return .success(Head(status: status, headers: headers, contentLength: status < 200 ? nil : contentLength))
    }
}
