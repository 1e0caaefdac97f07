/// The whole server configuration, as loaded from one YAML file or built from defaults.
///
/// Every type here is a plain value (Sendable, Equatable) so it can be handed to event loops
/// and compared in tests; all validation happens while loading, never when the server reads it.
public struct TacetConfiguration: Sendable, Equatable {
    /// HTTP listeners: the addresses to bind, each plain or TLS. Empty only when the file has
    /// `streams` and no `listen`: a pure TCP proxy then runs without an HTTP listener.
    public var listeners: [HTTPListenerConfig]
    /// The listeners' addresses; setting them makes plain listeners (`--listen`).
    public var listen: [ListenAddress] {
        get { listeners.map(\.address) }
        set { listeners = newValue.map { HTTPListenerConfig(address: $0) } }
    }
    /// Routes in file order; the first match wins.
    public var routes: [Route]
    public var limits: Limits
    public var timeouts: Timeouts
    public var accessLog: AccessLogConfig
    /// Backend groups in file order; names are unique.
    public var upstreams: [UpstreamConfig]
    /// TCP stream listeners in file order.
    public var streams: [StreamConfig]
    /// The error log's level; nil when the file does not say (the server then uses `notice`,
    /// and `--log-level` overrides either).
    public var logLevel: LogLevel?
    /// The admin listener (metrics, health); nil: none, and no metrics are kept.
    public var admin: AdminConfig?

    /// Peers whose PROXY headers are believed (addresses or CIDR networks, as written; checked
    /// when loading).
    public var trustedProxies: [String] = []
    /// X-Request-ID on every request: kept from a trusted proxy, else made; logged, sent upstream.
    public var requestID = false
    /// `limits:`: per-client connections and requests.
    public var clientLimits = ClientLimitsConfig()
    /// `compression:` at the top level: every route's, unless the route says otherwise. nil: off.
    public var compression: CompressionConfig?
    /// `error_pages:` at the top level: every route's, and the refusals made before any route.
    public var errorPages: ErrorPagesConfig?
    /// `default_host:` the host a request is routed as when its own is one no route names
    /// (nginx's `default_server`); nil: such a request gets only the routes with no host.
    public var defaultHost: String?
    /// `cache: zones:`: the stores cached routes name.
    public var cacheZones: [CacheZoneConfig] = []
    /// `acme:`: the CA that certifies the names TLS listeners list under `acme:`.
    public var acme: ACMEConfig?
    /// Where `trusted_proxies` was given, for errors found when the entries are read.
    public var trustedProxiesLine = 0

    /// The address used when the file does not say `listen:`.
    public static let defaultListen: [ListenAddress] = [ListenAddress(host: "127.0.0.1", port: 8080)]

    public init(
        listen: [ListenAddress] = TacetConfiguration.defaultListen,
        routes: [Route] = [],
        limits: Limits = Limits(),
        timeouts: Timeouts = Timeouts(),
        accessLog: AccessLogConfig = AccessLogConfig(),
        upstreams: [UpstreamConfig] = [],
        streams: [StreamConfig] = [],
        logLevel: LogLevel? = nil,
        admin: AdminConfig? = nil
    ) {
        self.listeners = listen.map { HTTPListenerConfig(address: $0) }
        self.routes = routes
        self.limits = limits
        self.timeouts = timeouts
        self.accessLog = accessLog
        self.upstreams = upstreams
        self.streams = streams
        self.logLevel = logLevel
        self.admin = admin
    }

    /// The upstream called `name`, if configured.
    public func upstream(named name: String) -> UpstreamConfig? {
        upstreams.first { $0.name == name }
    }
}

/// One `routes:` entry: what requests it applies to and what to do with them.
public struct Route: Sendable, Equatable {
    public var match: RouteMatch
    public var action: RouteAction
    /// Line of the route in the config file (0 when not from a file), so runtime logs can point back at it.
    public var line: Int
    /// Client networks let in (empty: everyone) and kept out (`deny` wins); others get 403.
    public var allow: [String] = []
    public var deny: [String] = []
    /// Fields set or removed on the request and the response (`headers:`).
    public var headers: HeaderRules?
    /// `auth:`: who may use the route (nil: anyone).
    public var auth: AuthConfig?
    /// `cors:`: the preflight answered here, the response fields added (nil: none).
    public var cors: CORSConfig?
    /// The route's own `error_pages:`, over the top level's per status and class.
    public var errorPages: ErrorPagesConfig?
    /// The route's own `compression:` (nil: the top level's).
    public var compression: RouteCompression?
    /// `cache:` on a proxy route: answered from a zone where RFC 9111 allows (nil: not cached).
    public var cache: RouteCacheConfig?

    /// What the route compresses with: its own block, else the top level's; nil for none.
    public func compression(defaultingTo top: CompressionConfig?) -> CompressionConfig? {
        switch compression {
        case .off: nil
        case .on(let config): config
        case nil: top
        }
    }

    public init(match: RouteMatch, action: RouteAction, line: Int = 0) {
        self.match = match
        self.action = action
        self.line = line
    }
}

/// Which requests a route applies to.
public struct RouteMatch: Sendable, Equatable {
    /// Hosts to match (nginx's `server_name`): lowercased names without a port or trailing dot,
    /// or `*.example.com`; empty matches any host.
    public var hosts: [String]
    /// Path prefix; always starts with "/".
    public var path: String

    /// The first host, for a route that names one.
    public var host: String? { hosts.first }

    public init(host: String? = nil, path: String = "/") {
        self.hosts = host.map { [$0] } ?? []
        self.path = path
    }

    public init(hosts: [String], path: String = "/") {
        self.hosts = hosts
        self.path = path
    }
}

/// What a matched route does. New kinds (e.g. proxy) are added as cases here and as a
/// parser in `RouteActionParsers`.
public enum RouteAction: Sendable, Equatable {
    case respond(FixedResponse)
    case staticFiles(StaticFiles)
    case proxy(ProxyConfig)
    case redirect(RedirectConfig)
}

/// A canned response, e.g. for health checks.
public struct FixedResponse: Sendable, Equatable {
    /// One extra response header. Names are validated as HTTP tokens and values carry no CR/LF,
    /// so a config file cannot inject headers or split the response.
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// 200...599.
    public var status: Int
    public var body: String
    public var contentType: String
    /// Extra headers in file order.
    public var headers: [Header]

    public static let defaultContentType = "text/plain; charset=utf-8"

    public init(status: Int, body: String = "", contentType: String = FixedResponse.defaultContentType, headers: [Header] = []) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }
}

/// Serve files from a directory.
public struct StaticFiles: Sendable, Equatable {
    /// Absolute, normalised directory path (relative paths in the file resolve against the file's directory).
    public var root: String
    /// File served for a directory request.
    public var index: String
    /// Precompressed siblings to look for (`app.js.br`, `.zst`, `.gz`), in the server's order of
    /// preference: `br`, `zstd`, `gzip`. Empty: none.
    public var precompressed: [String] = []
    /// nginx's `try_files`: templates (`{path}`) tried in order beneath the root, the last the
    /// fallback (a path, or `=CODE`). Empty: the request's own path only.
    public var tryFiles: [String] = []
    /// nginx's `autoindex`: a directory without its index listed (HTML, or JSON by Accept); off: 403.
    public var autoindex = false

    public init(root: String, index: String = "index.html") {
        self.root = root
        self.index = index
    }
}

/// Size and count limits that bound what one client can make the server hold.
public struct Limits: Sendable, Equatable {
    /// Bytes in the request line (method, target, version).
    public var maxRequestLine: Int
    /// Bytes in the whole header block.
    public var maxHeaderSize: Int
    /// Bytes in a request body.
    public var maxBodySize: Int
    /// Simultaneous connections across all listeners.
    public var maxConnections: Int
    /// Requests served on one connection before it is closed.
    public var keepaliveRequests: Int

    public init(
        maxRequestLine: Int = 8 * 1024,
        maxHeaderSize: Int = 32 * 1024,
        maxBodySize: Int = 1024 * 1024,
        maxConnections: Int = 10_000,
        keepaliveRequests: Int = 1000
    ) {
        self.maxRequestLine = maxRequestLine
        self.maxHeaderSize = maxHeaderSize
        self.maxBodySize = maxBodySize
        self.maxConnections = maxConnections
        self.keepaliveRequests = keepaliveRequests
    }
}

/// Timeouts; all strictly positive.
public struct Timeouts: Sendable, Equatable {
    /// To receive the complete request head.
    public var header: Duration
    /// Between two reads of a request body.
    public var body: Duration
    /// Idle time between requests on a kept-alive connection.
    public var keepalive: Duration
    /// Between two successful writes of a response.
    public var send: Duration
    /// Per read while discarding input after our FIN (lingering close).
    public var linger: Duration
    /// Total time a lingering close may take.
    public var lingerTotal: Duration
    /// Grace period for in-flight requests on SIGTERM.
    public var shutdown: Duration
    /// On SIGTERM, how long to keep accepting (with the admin listener's `/ready` answering 503)
    /// before the listeners close: time for a balancer's health checks to take this instance out,
    /// so no connection lands in a closing accept queue. 0 by default.
    public var shutdownDelay: Duration = .zero

    public init(
        header: Duration = .seconds(60),
        body: Duration = .seconds(60),
        keepalive: Duration = .seconds(75),
        send: Duration = .seconds(60),
        linger: Duration = .seconds(5),
        lingerTotal: Duration = .seconds(30),
        shutdown: Duration = .seconds(10)
    ) {
        self.header = header
        self.body = body
        self.keepalive = keepalive
        self.send = send
        self.linger = linger
        self.lingerTotal = lingerTotal
        self.shutdown = shutdown
    }
}

/// Where and how to write the access log.
public struct AccessLogConfig: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        case off
        case stdout
        /// Absolute path.
        case file(String)
    }

    public enum Format: String, Sendable, Equatable, CaseIterable {
        /// Apache/nginx "combined" line format, for existing log tooling.
        case combined
        /// One JSON object per line.
        case json
    }

    public var destination: Destination
    public var format: Format

    public init(destination: Destination = .stdout, format: Format = .combined) {
        self.destination = destination
        self.format = format
    }
}

/// `limits: { connections_per_client, requests_per_second_per_client, burst }` (none by default).
public struct ClientLimitsConfig: Sendable, Equatable {
    public var connectionsPerClient: Int?
    public var requestsPerSecondPerClient: Int?
    /// Requests a client may make at once beyond the rate (nginx's `burst`, served without delay).
    public var burst = 0
    public init() {}
    public var isEmpty: Bool { connectionsPerClient == nil && requestsPerSecondPerClient == nil }
}
