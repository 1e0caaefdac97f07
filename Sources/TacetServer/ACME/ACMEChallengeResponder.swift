import NIOHTTP1
import TacetACME
import TacetHTTP

/// http-01 answered before any route, redirect or allow list: `GET /.well-known/acme-challenge/TOKEN`
/// for a token the ACME client has out gets its key authorization; everything else (other
/// tokens included) goes on to the routes.
struct ACMEChallengeResponder: Responder {
    let tokens: HTTP01Tokens
    let next: any Responder

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        // The path first: it costs no lock, and almost every request stops there.
        if request.path.utf8.starts(with: HTTP01Tokens.prefix.utf8), request.method == .GET || request.method == .HEAD,
           let answer = tokens.response(path: String(request.path)) {
            return FixedResponder(status: .ok, body: answer, contentType: "application/octet-stream").respond(to: request, writer: writer)
        }
        return next.respond(to: request, writer: writer)
    }
}
