/// Picks the route for a request: the first whose host (if any) and path prefix match, in order,
/// like nginx's `location` prefixes would if they were listed in priority order. No match: 404.
public struct Router: Responder {
    public struct Route: Sendable {
        /// Lowercased host without port; nil matches any host.
        public let host: String?
        public let pathPrefix: String
        public let responder: any Responder
        /// The route's name in metrics: `host` + path prefix unless given.
        public let label: String
        /// `pathPrefix`'s bytes, for a plain memcmp against each request's target.
        let prefixBytes: [UInt8]

        public init(host: String?, pathPrefix: String, responder: any Responder, label: String? = nil) {
            self.host = host?.lowercased()
            self.pathPrefix = pathPrefix
            self.responder = responder
            self.label = label ?? ((host?.lowercased() ?? "") + pathPrefix)
            self.prefixBytes = Array(pathPrefix.utf8)
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
        // Byte comparison against the target up to its `?` (String.hasPrefix compares Characters:
        // far slower, same answer for paths). A native String always has contiguous UTF-8.
        let found = request.target.utf8.withContiguousStorageIfAvailable { target -> Int? in
            let pathLength = target.firstIndex(of: UInt8(ascii: "?")) ?? target.count
            for index in routes.indices {
                if let host = routes[index].host, host != request.host { continue }
                let matches = routes[index].prefixBytes.withUnsafeBufferPointer { prefix in
                    prefix.count <= pathLength && UnsafeBufferPointer(rebasing: target[0..<prefix.count]).elementsEqual(prefix)
                }
                if matches { return index }
            }
            return nil
        }
        if let found { return found }
        let path = request.path
        for index in routes.indices {
            if let host = routes[index].host, host != request.host { continue }
            if path.utf8.starts(with: routes[index].prefixBytes) { return index }
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
