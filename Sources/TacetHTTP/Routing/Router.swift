/// Picks the route for a request: the first whose host (if any) and path prefix match, in order,
/// like nginx's `location` prefixes would if they were listed in priority order. No match: 404.
public struct Router: Responder {
    public struct Route: Sendable {
        /// Lowercased host without port; nil matches any host.
        public var host: String?
        public var pathPrefix: String
        public var responder: any Responder
        /// The route's name in metrics: `host` + path prefix unless given.
        public var label: String

        public init(host: String?, pathPrefix: String, responder: any Responder, label: String? = nil) {
            self.host = host?.lowercased()
            self.pathPrefix = pathPrefix
            self.responder = responder
            self.label = label ?? ((host?.lowercased() ?? "") + pathPrefix)
        }
    }

    public var routes: [Route]
    private let notFound = FixedResponder(status: .notFound, body: "not found\n")

    public init(routes: [Route]) {
        self.routes = routes
    }

    public func route(for request: Request) -> Route? {
        let path = request.path
        for route in routes {
            if let host = route.host, host != request.host { continue }
            // Byte comparison: String.hasPrefix compares Characters, far slower, same answer for paths.
            if path.utf8.starts(with: route.pathPrefix.utf8) { return route }
        }
        return nil
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        guard let route = route(for: request) else {
            writer.setRouteLabel("none")
            return notFound.respond(to: request, writer: writer)
        }
        writer.setRouteLabel(route.label)
        return route.responder.respond(to: request, writer: writer)
    }
}
