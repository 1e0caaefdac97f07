import TacetHTTP

/// Placeholder until the static-file logic lands.
public struct StaticResponder: Responder {
    let root: String
    let index: String
    public init(root: String, index: String) {
        self.root = root
        self.index = index
    }
    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        FixedResponder(status: .notImplemented, body: "static files not yet\n").respond(to: request, writer: writer)
    }
}
