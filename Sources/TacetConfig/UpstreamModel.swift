/// A named group of backend servers (`upstreams: NAME: {...}`), shared by HTTP proxy routes
/// and stream listeners that name it.
public struct UpstreamConfig: Sendable, Equatable {
    /// One backend; `address` is where to connect (a host name is resolved at connect time).
    public struct Server: Sendable, Equatable {
        public var address: ListenAddress
        /// Share of picks relative to the other servers; ≥ 1.
        public var weight: Int

        public init(address: ListenAddress, weight: Int = 1) {
            self.address = address
            self.weight = weight
        }
    }

    /// How a server is chosen for a new connection.
    public enum Balance: String, Sendable, Equatable, CaseIterable {
        /// nginx's smooth weighted round robin.
        case roundRobin = "round_robin"
        /// Fewest active connections relative to weight.
        case leastConn = "least_conn"
        /// Power of two choices: two random servers, the less loaded wins.
        case random
        /// nginx's `hash KEY consistent` (ketama): a request goes to the server its `key` hashes
        /// to, so a tier of caches shards by URL.
        case consistentHash = "consistent_hash"
    }

    public var name: String
    /// Never empty once loaded.
    public var servers: [Server]
    public var balance: Balance
    /// `key:` for `consistent_hash` (default `{scheme}://{host}{uri}`, the cache's key).
    public var hashKey: [RedirectConfig.Part] = [.variable(.scheme), .literal("://"), .variable(.host), .variable(.uri)]
    /// Idle pooled connections kept per event loop; 0 disables keep-alive to the backends.
    public var keepalive: Int
    public var connectTimeout: Duration
    /// To the first byte of a response, and between two reads.
    public var readTimeout: Duration
    /// Between two successful writes to the backend.
    public var sendTimeout: Duration
    /// An Upgrade (WebSocket) tunnel with one direction finished: reset both after this long.
    public var halfCloseTimeout: Duration = .seconds(60)
    /// Failures within `failTimeout` that take a server out for `failTimeout` (nginx semantics);
    /// 0 disables passive health.
    public var maxFails: Int
    public var failTimeout: Duration
    /// Active checks; nil when not configured (servers are then judged by traffic only).
    public var health: HealthCheckConfig?
    /// TLS to the servers; nil: plain HTTP.
    public var tls: UpstreamTLSConfig?
    /// What the proxy speaks to the servers.
    public var `protocol`: UpstreamProtocol = .http1

    /// HTTP/1.1 (the default), HTTP/2 with prior knowledge on plain TCP, or HTTP/2 over TLS
    /// chosen by ALPN.
    public enum UpstreamProtocol: String, Sendable, Equatable, CaseIterable {
        case http1
        case h2c
        case h2
    }

    public init(
        name: String, servers: [Server], balance: Balance = .roundRobin, keepalive: Int = 32,
        connectTimeout: Duration = .seconds(5), readTimeout: Duration = .seconds(60),
        sendTimeout: Duration = .seconds(60), maxFails: Int = 1, failTimeout: Duration = .seconds(10),
        health: HealthCheckConfig? = nil
    ) {
        self.name = name
        self.servers = servers
        self.balance = balance
        self.keepalive = keepalive
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.sendTimeout = sendTimeout
        self.maxFails = maxFails
        self.failTimeout = failTimeout
        self.health = health
    }
}

/// Active HTTP health check: `GET path` every `interval`; a status in `expectStatus` within
/// `timeout` means up.
public struct HealthCheckConfig: Sendable, Equatable {
    public var path: String
    public var interval: Duration
    public var timeout: Duration
    /// Statuses that count as healthy; 200...399 unless the file says otherwise.
    public var expectStatus: Set<Int>
    /// `grpc.health.v1.Health/Check` (h2c) instead of `GET path`: up when SERVING.
    public var grpc = false
    /// The service the gRPC check asks about; "" is the server as a whole.
    public var service = ""

    public static let defaultExpectStatus = Set(200...399)

    public init(path: String = "/", interval: Duration = .seconds(5), timeout: Duration = .seconds(2),
                expectStatus: Set<Int> = HealthCheckConfig.defaultExpectStatus) {
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.expectStatus = expectStatus
    }
}

/// Where a proxy route or a stream sends its connections.
public enum ProxyTarget: Sendable, Equatable {
    /// A configured upstream, by name (checked to exist while loading).
    case upstream(String)
    /// One fixed address, with nothing to balance.
    case address(ListenAddress)
}

/// What a proxy route does when the client half-closes before the response is complete.
public enum ClientFINPolicy: String, Sendable, Equatable, CaseIterable {
    /// Finish the request and answer (RFC 9112 §9.6: a half-close is not an abort).
    case serve
    /// Cancel the upstream request at once (nginx's default).
    case abort
    /// Send a 1xx interim response: a reset or failed write means gone (abort), silence means serve.
    case probe
}

/// `proxy: { upstream | to, on_client_fin, probe_status, probe_max }`.
public struct ProxyConfig: Sendable, Equatable {
    public var target: ProxyTarget
    /// `to: "https://HOST:PORT"`: TLS to that one server, verified, named HOST.
    public var toTLS: UpstreamTLSConfig?
    public var onClientFIN: ClientFINPolicy
    /// The interim status sent by `probe`: 100...199 except 101.
    public var probeStatus: Int
    /// How many interim responses `probe` may send per request; ≥ 1.
    public var probeMax: Int
    /// Taken off the front of the request's path before it goes upstream (`/api/x` -> `/x`).
    public var stripPrefix: String?
    /// The upstream's error responses replaced by the route's error pages (nginx's
    /// `proxy_intercept_errors`); off: only Tacet's own (502, 504) are.
    public var intercept = false

    public init(target: ProxyTarget, onClientFIN: ClientFINPolicy = .serve, probeStatus: Int = 103, probeMax: Int = 1) {
        self.target = target
        self.onClientFIN = onClientFIN
        self.probeStatus = probeStatus
        self.probeMax = probeMax
    }
}

/// One `streams:` entry: a TCP listener whose connections are glued to a backend.
public struct StreamConfig: Sendable, Equatable {
    public var listen: ListenAddress
    public var target: ProxyTarget
    /// After the first FIN, how long the other direction may stay open.
    public var halfCloseTimeout: Duration
    /// Resolved while loading: the stream's own value, else its upstream's, else 5 s.
    public var connectTimeout: Duration
    /// TLS terminated for the clients; nil: plain TCP.
    public var tls: TLSListenerConfig?
    /// `send_proxy_protocol: v1 | v2`: a PROXY header to the upstream first; nil: none.
    public var sendProxyProtocol: String?
    /// `proxy_protocol: true`: each client connection starts with a PROXY header (v1 or v2) from
    /// a trusted balancer, read before the upstream is connected.
    public var proxyProtocol = false
    /// Line of the entry in the config file (0 when not from a file).
    public var line: Int

    public init(listen: ListenAddress, target: ProxyTarget, halfCloseTimeout: Duration = .seconds(60),
                connectTimeout: Duration = .seconds(5), line: Int = 0) {
        self.listen = listen
        self.target = target
        self.halfCloseTimeout = halfCloseTimeout
        self.connectTimeout = connectTimeout
        self.line = line
    }
}
