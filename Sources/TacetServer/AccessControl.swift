import NIOCore
import NIOHTTP1
import TacetHTTP
import TacetProxyProtocol

/// A route's `allow` and `deny` networks, checked against the client's address (the PROXY
/// header's when a balancer sent one) before the route's action runs: `deny` first, then, if
/// `allow` lists anything, only those. Others get 403, as nginx's allow/deny answer.
struct AccessControlResponder: Responder {
    let allow: CIDRList
    let deny: CIDRList
    let next: any Responder
    private static let forbidden = FixedResponder(status: .forbidden, body: "forbidden\n", isRefusal: true)

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let client = writer.clientAddress
        if deny.contains(client) || (!allow.isEmpty && !allow.contains(client)) {
            return Self.forbidden.respond(to: request, writer: writer)
        }
        return next.respond(to: request, writer: writer)
    }
}
