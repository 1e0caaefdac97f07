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
        routeIndex(for: request).map { routes[$0] }
    }

    /// By index: iterating the routes themselves would copy (retain and release) every field of
    /// each one on every request.
    private func routeIndex(for request: Request) -> Int? {
        let path = request.path
        for index in routes.indices {
            if let host = routes[index].host, host != request.host { continue }
            // Byte comparison: String.hasPrefix compares Characters, far slower, same answer for paths.
            if path.utf8.starts(with: routes[index].pathPrefix.utf8) { return index }
        }
        return nil
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        guard let index = routeIndex(for: request) else {
            writer.setRouteLabel("none")
            return notFound.respond(to: request, writer: writer)
        }
        writer.setRouteLabel(routes[index].label)
        return routes[index].responder.respond(to: request, writer: writer)
    }
}
