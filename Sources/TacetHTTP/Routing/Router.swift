/// Picks the route for a request, as nginx picks a `server` and then a location: routes for
/// the request's exact host first, then `*.` wildcards (longest suffix first), then routes with
/// no host; within each, the first whose path prefix matches, in file order. A Host that no
/// route names is routed as `defaultHost` when one is set (nginx's `default_server`). No
/// match: 404.
public struct Router: Responder {
    public struct Route: Sendable {
        /// nil matches any host.
        public let host: HostPattern?
        public let pathPrefix: String
        public let responder: any Responder
        /// The route's name in metrics: `host` + path prefix unless given.
        public let label: String
        /// `pathPrefix`'s bytes, for a plain memcmp against each request's target.
        let prefixBytes: [UInt8]

        public init(host: HostPattern?, pathPrefix: String, responder: any Responder, label: String? = nil) {
            self.host = host
            self.pathPrefix = pathPrefix
            self.responder = responder
            self.label = label ?? ((host?.description ?? "") + pathPrefix)
            self.prefixBytes = Array(pathPrefix.utf8)
        }

        /// A host as written in a config (`*.example.com` or a name); a name that is neither
        /// matches nothing rather than everything.
        public init(host: String, pathPrefix: String, responder: any Responder, label: String? = nil) {
            self.init(host: HostPattern(host) ?? .exact("\u{0}"), pathPrefix: pathPrefix,
                      responder: responder, label: label)
        }

        var rank: Int { host.map(\.rank) ?? 2000 }
    }

    /// In the order they are tried (see the type's comment), not necessarily the order given.
    public let routes: [Route]
    /// The host a request is routed as when no route names its own.
    public let defaultHost: String?
    /// The top level's `error_pages`, for the router's 404 and every route without its own.
    public let errorPages: ErrorPages
    private let exactHosts: Set<String>
    private let wildcards: [HostPattern]
    private let notFound = FixedResponder(status: .notFound, body: "not found\n", isRefusal: true)

    public init(routes: [Route], defaultHost: String? = nil, errorPages: ErrorPages = ErrorPages()) {
        self.errorPages = errorPages
        // A stable sort: file order within a rank.
        self.routes = routes.enumerated().sorted { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }.map(\.element)
        var exact = Set<String>()
        var wildcards: [HostPattern] = []
        for route in routes {
            switch route.host {
            case .exact(let name)?: exact.insert(name)
            case let pattern?: if !wildcards.contains(pattern) { wildcards.append(pattern) }
            case nil: break
            }
        }
        self.exactHosts = exact
        self.wildcards = wildcards
        self.defaultHost = defaultHost.flatMap { HostPattern($0) }.flatMap { if case .exact(let name) = $0 { name } else { nil } }
    }

    public func route(for request: Request) -> Route? {
        routeIndex(for: request).map { routes[$0] }
    }

    /// Whether some route names `host` (exactly or by a wildcard).
    func isKnown(_ host: String?) -> Bool {
        guard let host else { return false }
        return exactHosts.contains(host) || wildcards.contains { $0.matches(host) }
    }

    /// By index: iterating the routes themselves would copy (retain and release) every field of
    /// each one on every request.
    private func routeIndex(for request: Request) -> Int? {
        var host = request.host
        if let defaultHost, !isKnown(host) { host = defaultHost }
        // Byte comparison against the target up to its `?` (String.hasPrefix compares Characters:
        // far slower, same answer for paths). A native String always has contiguous UTF-8.
        let found = request.target.utf8.withContiguousStorageIfAvailable { target -> Int? in
            let pathLength = target.firstIndex(of: UInt8(ascii: "?")) ?? target.count
            for index in routes.indices {
                if let pattern = routes[index].host, !pattern.matches(host) { continue }
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
            if let pattern = routes[index].host, !pattern.matches(host) { continue }
            if path.utf8.starts(with: routes[index].prefixBytes) { return index }
        }
        return nil
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let index = routeIndex(for: request)
        var writer = writer
        // A route with pages of its own wraps itself (its pages are over these).
        if !errorPages.isEmpty, !(index.map { routes[$0].responder is ErrorPagesResponder } ?? false) {
            writer = ResponseWriter(sink: ErrorPagesSink(base: writer, pages: errorPages, intercept: false,
                                                         isHEAD: request.method == .HEAD), id: 1)
        }
        guard let index else {
            writer.setRouteLabel("none")
            return notFound.respond(to: request, writer: writer)
        }
        writer.setRouteLabel(routes[index].label)
        return routes[index].responder.respond(to: request, writer: writer)
    }
}
