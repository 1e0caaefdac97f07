import NIOCore
import NIOHPACK
import NIOHTTP1
import TacetHTTP

/// A route's `ResponseHead` as an HTTP/2 header block: `:status`, Server and Date as on
/// HTTP/1.1, the route's fields lowercased without the connection-specific ones HTTP/2 forbids
/// (RFC 9113 §8.2.2), and Content-Length when the length is known. Fields a proxied response
/// carries as bytes (`encodedFields`, `Name: value` lines) are read back into the block.
enum ResponseFields {
    static func block(for head: ResponseHead, date: String) -> HPACKHeaders {
        var block = HPACKHeaders()
        block.reserveCapacity(head.headers.count + 4)
        block.add(name: ":status", value: String(head.status.code))
        block.add(name: "server", value: "tacet")
        block.add(name: "date", value: date)
        // A fixed response's `headers` spare reading its bytes back on every answer.
        for (name, value) in head.fields { add(name, value, to: &block) }
        if case .length(let n) = head.body, head.status.code != 204, head.status.code != 304 {
            block.add(name: "content-length", value: String(n))
        } else if head.body == .empty, head.status.code >= 200, head.status.code != 204, head.status.code != 304 {
            block.add(name: "content-length", value: "0")
        }
        return block
    }

    /// An interim (1xx) response's block.
    static func interim(_ status: HTTPResponseStatus, headers: HTTPHeaders) -> HPACKHeaders {
        var block = HPACKHeaders()
        block.add(name: ":status", value: String(status.code))
        for (name, value) in headers { add(name, value, to: &block) }
        return block
    }

    private static func add(_ name: String, _ value: String, to block: inout HPACKHeaders) {
        if FieldNames.isHopByHop(name) || name.lowercasedASCIIEquals("content-length")
            || name.lowercasedASCIIEquals("te") || name.lowercasedASCIIEquals("proxy-connection") { return }
        block.add(name: name.lowercased(), value: value)
    }
}
