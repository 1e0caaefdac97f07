import NIOCore
import NIOHTTP1
import TacetHTTP

/// What a proxy changes in the headers it passes on (RFC 9110 §7.6.1): hop-by-hop fields are
/// the connection's business and stop here; X-Forwarded-* and Via say that a proxy was there.
enum HeaderRewriting {
    /// The request head for an HTTP/1.1 upstream, serialised straight into bytes in one pass
    /// over the client's fields: hop-by-hop fields and Expect dropped, X-Forwarded-* and Via
    /// added, framing our own, Upgrade kept for an upgrade request. Always HTTP/1.1.
    static func writeUpstreamRequestHead(for request: Request, clientAddress: String, into buffer: inout ByteBuffer) {
        buffer.writeString(request.method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(request.target)
        // Always HTTP/1.1 upstream, so the connection can be kept alive.
        buffer.writeStaticString(" HTTP/1.1\r\n")
        let seen = forwardedFields(of: request, clientAddress: clientAddress, keepTE: false, into: &buffer)
        switch request.framing {
        case .length(let n):
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(n))
            buffer.writeStaticString("\r\n")
        case .chunked:
            buffer.writeStaticString("Transfer-Encoding: chunked\r\n")
        case .none:
            if request.method != .GET && request.method != .HEAD { buffer.writeStaticString("Content-Length: 0\r\n") }
        }
        // An upgrade (WebSocket) is the one hop-by-hop request the upstream must see.
        if request.version.minor >= 1, seen.connectionAsksUpgrade, let upgradeValue = seen.upgrade {
            buffer.writeStaticString("Upgrade: ")
            buffer.writeString(upgradeValue)
            buffer.writeStaticString("\r\nConnection: upgrade\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    /// The fields for an HTTP/2 upstream (the pseudo-fields are the stream's): the same
    /// rewriting, `TE` kept for `UpstreamRequestBlock` to pass as `trailers` (gRPC servers
    /// refuse requests without it), a declared length as `content-length`.
    static func upstreamFields(for request: Request, clientAddress: String) -> HTTPHeaders {
        var fields = HTTPHeaders()
        fields.reserveCapacity(request.headers.count + 4)
        _ = forwardedFields(of: request, clientAddress: clientAddress, keepTE: true, into: &fields)
        if case .length(let n) = request.framing { fields.add(name: "content-length", value: String(n)) }
        return fields
    }

    /// What both protocols' heads share, in one pass over the client's fields: end-to-end
    /// fields passed, hop-by-hop ones (and those Connection names) and Expect dropped, then
    /// X-Forwarded-For, -Proto, -Host and Via. Returns what the HTTP/1.1 head needs for an upgrade.
    private static func forwardedFields<Sink: UpstreamFieldSink>(
        of request: Request, clientAddress: String, keepTE: Bool, into sink: inout Sink
    ) -> (upgrade: String?, connectionAsksUpgrade: Bool) {
        var named: [String] = []
        var forwardedFor = ""
        var host: String?
        var upgradeValue: String?
        var connectionAsksUpgrade = false
        // Fields named by Connection go too: find them first (rare, and usually a short list).
        for (name, value) in request.headers where name.utf8.count == 10 && name.lowercasedASCIIEquals("connection") {
            var value = value
            value.withUTF8 { bytes in
                FieldNames.forEachMember(UnsafeRawBufferPointer(bytes)) { token in
                    if FieldNames.equalsLower(token, "upgrade") {
                        connectionAsksUpgrade = true
                    } else if !FieldNames.equalsLower(token, "close") && !FieldNames.equalsLower(token, "keep-alive") {
                        named.append(String(decoding: token, as: UTF8.self).lowercased())
                    }
                }
            }
        }
        for (name, value) in request.headers {
            switch name.utf8.count {
            case 2 where keepTE && name.lowercasedASCIIEquals("te"):
                sink.field(name, value)
                continue
            case 4 where host == nil && name.lowercasedASCIIEquals("host"):
                host = value
            case 6 where name.lowercasedASCIIEquals("expect"):
                continue  // Tacet answered (or will answer) Expect itself: the body is coming either way.
            case 7 where upgradeValue == nil && name.lowercasedASCIIEquals("upgrade"):
                upgradeValue = value
            case 15 where name.lowercasedASCIIEquals("x-forwarded-for"):
                forwardedFor = forwardedFor.isEmpty ? value : forwardedFor + ", " + value
                continue
            case 16 where name.lowercasedASCIIEquals("x-forwarded-host"):
                continue
            case 17 where name.lowercasedASCIIEquals("x-forwarded-proto"):
                continue
            default:
                break
            }
            if FieldNames.isHopByHop(name) || (!named.isEmpty && named.contains { name.lowercasedASCIIEquals($0) }) { continue }
            sink.field(name, value)
        }
        sink.field("X-Forwarded-For", forwardedFor.isEmpty ? clientAddress : forwardedFor + ", " + clientAddress)
        sink.field("X-Forwarded-Proto", request.isSecure ? "https" : "http")
        if let host { sink.field("X-Forwarded-Host", host) }
        // The protocol the request came in (RFC 9110 §7.6.3): 1.0, 1.1 or 2.0.
        sink.field("Via", request.version.major == 2 ? "2.0 tacet" : request.version.minor == 0 ? "1.0 tacet" : "1.1 tacet")
        return (upgradeValue, connectionAsksUpgrade)
    }

    /// The protocol an HTTP/1.1 request asks to upgrade to (`Upgrade` named in `Connection`).
    static func upgradeProtocol(of request: Request) -> String? {
        guard request.version.minor >= 1, let upgrade = request.headers.first(name: "upgrade") else { return nil }
        let asks = request.headers["connection"].contains { value in
            value.split(separator: ",").contains { $0.trimmingOWS().lowercased() == "upgrade" }
        }
        return asks ? upgrade : nil
    }

}

/// Where the rewritten request fields go: an HTTP/1.1 head's bytes, or an HTTP/2 block's list.
protocol UpstreamFieldSink {
    mutating func field(_ name: String, _ value: String)
}

extension ByteBuffer: UpstreamFieldSink {
    mutating func field(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}

extension HTTPHeaders: UpstreamFieldSink {
    mutating func field(_ name: String, _ value: String) { add(name: name, value: value) }
}
