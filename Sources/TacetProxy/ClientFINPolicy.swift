import NIOHTTP1

/// What a proxy route does when the client sends FIN after a whole request, before the upstream
/// has started answering. A FIN alone cannot tell "done sending" from "gone": these are the choices.
public enum ClientFINPolicy: Sendable, Equatable {
    /// Finish and answer (RFC 9112 §9.6: a half-close is not an abort). The default.
    case serve
    /// Cancel the upstream request and close, logged 499 `client_fin` (nginx's default).
    case abort
    /// Ask the client: send one interim response (HTTP/1.1 only). A client that fully closed
    /// answers with an RST, which cancels the upstream request; silence means serve.
    case probe(status: HTTPResponseStatus, max: Int)
}
