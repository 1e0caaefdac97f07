import NIOHTTP1
import TacetHTTP

/// What a proxy changes in the headers it passes on (RFC 9110 §7.6.1): hop-by-hop fields are
/// the connection's business and stop here; X-Forwarded-* and Via say that a proxy was there.
enum HeaderRewriting {
    static let via = "1.1 tacet"

    /// The request head for the upstream.
    static func upstreamRequestHead(for request: Request, clientAddress: String) -> HTTPRequestHead {
        var headers = request.headers
        removeHopByHop(&headers)
        // Tacet answered (or will answer) Expect itself: the body is coming either way.
        headers.remove(name: "expect")
        let forwardedFor = headers["x-forwarded-for"].joined(separator: ", ")
        headers.replaceOrAdd(name: "X-Forwarded-For",
                             value: forwardedFor.isEmpty ? clientAddress : forwardedFor + ", " + clientAddress)
        headers.replaceOrAdd(name: "X-Forwarded-Proto", value: "http")
        if let host = request.headers.first(name: "host") {
            headers.replaceOrAdd(name: "X-Forwarded-Host", value: host)
        }
        headers.add(name: "Via", value: request.version.minor == 0 ? "1.0 tacet" : via)
        switch request.framing {
        case .length(let n): headers.replaceOrAdd(name: "Content-Length", value: String(n))
        case .chunked: headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        case .none:
            if request.method != .GET && request.method != .HEAD { headers.replaceOrAdd(name: "Content-Length", value: "0") }
        }
        // An upgrade (WebSocket) is the one hop-by-hop request the upstream must see.
        if let upgrade = upgradeProtocol(of: request) {
            headers.replaceOrAdd(name: "Upgrade", value: upgrade)
            headers.replaceOrAdd(name: "Connection", value: "upgrade")
        }
        // Always HTTP/1.1 upstream, so the connection can be kept alive.
        return HTTPRequestHead(version: .http1_1, method: request.method, uri: request.target, headers: headers)
    }

    /// The protocol an HTTP/1.1 request asks to upgrade to (`Upgrade` named in `Connection`).
    static func upgradeProtocol(of request: Request) -> String? {
        guard request.version.minor >= 1, let upgrade = request.headers.first(name: "upgrade") else { return nil }
        let asks = request.headers["connection"].contains { value in
            value.split(separator: ",").contains { $0.trimmingCharacters(in: " \t").lowercased() == "upgrade" }
        }
        return asks ? upgrade : nil
    }

    /// The 101 head for the client: the upstream's fields, with its `Upgrade` kept.
    static func switchingProtocolsHeaders(_ upstream: HTTPHeaders) -> HTTPHeaders {
        var headers = clientResponseHeaders(upstream)
        if let upgrade = upstream.first(name: "upgrade") { headers.replaceOrAdd(name: "Upgrade", value: upgrade) }
        return headers
    }

    /// The response head for the client: hop-by-hop fields removed, Via added; Server and Date
    /// are the proxy's own (nginx hides the upstream's too).
    static func clientResponseHeaders(_ upstream: HTTPHeaders) -> HTTPHeaders {
        var headers = upstream
        removeHopByHop(&headers)
        headers.remove(name: "server")
        headers.remove(name: "date")
        headers.add(name: "Via", value: via)
        return headers
    }

    /// Connection and every field it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade,
    /// Proxy-* (Proxy-Authorization, Proxy-Connection...); Content-Length is re-framed by us.
    /// One pass over the fields: this runs twice per proxied request.
    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        var named: [String] = []
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                let t = token.trimmingCharacters(in: " \t").lowercased()
                if !t.isEmpty && t != "close" && t != "keep-alive" { named.append(t) }
            }
        }
        var kept = HTTPHeaders()
        kept.reserveCapacity(headers.count)
        for (name, value) in headers where !isHopByHop(name, named: named) {
            kept.add(name: name, value: value)
        }
        headers = kept
    }

    private static func isHopByHop(_ name: String, named: [String]) -> Bool {
        let utf8 = name.utf8
        switch utf8.count {
        case 2: if name.lowercasedASCIIEquals("te") { return true }
        case 7: if name.lowercasedASCIIEquals("trailer") || name.lowercasedASCIIEquals("upgrade") { return true }
        case 10: if name.lowercasedASCIIEquals("connection") || name.lowercasedASCIIEquals("keep-alive") { return true }
        case 14: if name.lowercasedASCIIEquals("content-length") { return true }
        case 17: if name.lowercasedASCIIEquals("transfer-encoding") { return true }
        default: break
        }
        if utf8.count > 6, name.prefix(6).lowercasedASCIIEquals("proxy-") { return true }
        return !named.isEmpty && named.contains { name.lowercasedASCIIEquals($0) }
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
