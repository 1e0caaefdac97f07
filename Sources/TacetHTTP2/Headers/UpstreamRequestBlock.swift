import NIOCore
import NIOHTTP1
import TacetHTTP

/// A request's header block as Tacet sends it to an HTTP/2 upstream (the client role, issue
/// #22): the four pseudo-fields first (RFC 9113 §8.3.1), then the fields, lowercased, without
/// what is connection-specific (§8.2.2: Connection and the fields it names, Keep-Alive,
/// Proxy-Connection, Transfer-Encoding, Upgrade, Host, which `:authority` carries) and with `te`
/// only as `trailers` (gRPC servers refuse requests without it). HPACK as the server side
/// writes it: literals without indexing, no Huffman, no dynamic table, so no encoder state.
package enum UpstreamRequestBlock {
    package static func write(method: String, scheme: String, authority: String, path: String,
                              headers: HTTPHeaders, into out: inout ByteBuffer) {
        // Static table indexes (Appendix A): :authority 1, :method 2, :path 4, :scheme 6.
        pseudo(2, method, into: &out)
        pseudo(6, scheme, into: &out)
        pseudo(1, authority, into: &out)
        pseudo(4, path, into: &out)
        let named = connectionNamed(headers)
        for (name, value) in headers {
            let lower = name.lowercased()
            switch lower {
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host":
                continue
            case "te":
                guard value.split(separator: ",").contains(where: { $0.trimmingOWS().lowercasedASCIIEquals("trailers") }) else { continue }
                HPACKLiteral.field(name: "te".utf8, value: "trailers".utf8, into: &out)
            default:
                if named.contains(lower) { continue }
                HPACKLiteral.field(name: lower.utf8, value: value.utf8, into: &out)
            }
        }
    }

    /// A literal without indexing whose name is the static table's entry `index`.
    private static func pseudo(_ index: Int, _ value: String, into out: inout ByteBuffer) {
        HPACKLiteral.integer(index, prefixBits: 4, flags: 0x00, into: &out)
        HPACKLiteral.string(value.utf8, into: &out)
    }

    /// The field names a Connection header lists (lowercased): hop-by-hop, never forwarded.
    private static func connectionNamed(_ headers: HTTPHeaders) -> Set<String> {
        var names = Set<String>()
        for value in headers["connection"] {
            for token in value.split(separator: ",") {
                let name = token.trimmingOWS().lowercased()
                if !name.isEmpty { names.insert(name) }
            }
        }
        return names
    }
}
