import NIOCore
import NIOHTTP1
import TacetCache
import TacetCompression
import TacetConfig
import TacetHTTP
import TacetProxy
import TacetProxyProtocol
import TacetStatic
import TacetStream
import TacetUpstream

/// Turns a validated `TacetConfiguration` into what the listener runs with. `tacet check`,
/// `tacet serve` and (later) reload all go through here, so they cannot disagree.
public struct RuntimeConfiguration: Sendable {
    public var listen: [(host: String, port: Int)]
    public var settings: ServerSettings
    public let config: TacetConfiguration
    public var shutdownGrace: TimeAmount
    /// Accepting on, `/ready` 503, for this long after SIGTERM before the listeners close.
    public var shutdownDelay: TimeAmount
    public var accessLog: AccessLogConfig
    /// One group per configured upstream, keyed by name: shared by proxy routes and streams, so
    /// counts and health are one view of each server.
    public var upstreamGroups: [String: UpstreamGroup]
    /// Active checks to run: the group and how to check it.
    public var healthChecks: [(group: UpstreamGroup, check: HealthCheck, interval: TimeAmount)]
    /// One per `streams:` entry, in file order.
    public var streams: [StreamSettings]
    /// The open cache zones by name (`openCacheZones`; empty until then, as for `tacet check`).
    public var cacheZones: [String: CacheZone] = [:]

    /// `previous`: on reload, the running configuration. An upstream whose servers, balancing and
    /// passive-health settings are unchanged keeps its `UpstreamGroup`, so its health marks and
    /// connection counts survive the reload (the active checks restart either way).
    public init(_ config: TacetConfiguration, previous: RuntimeConfiguration? = nil) {
        listen = config.listen.map { ($0.host, $0.port) }
        var settings = ServerSettings()
        settings.parserLimits = RequestParser.Limits(
            maxRequestLine: config.limits.maxRequestLine,
            maxHeaderSize: config.limits.maxHeaderSize,
            maxBodySize: config.limits.maxBodySize)
        settings.maxConnections = config.limits.maxConnections
        settings.keepaliveRequests = config.limits.keepaliveRequests
        settings.headerTimeout = TimeAmount(config.timeouts.header)
        settings.bodyTimeout = TimeAmount(config.timeouts.body)
        settings.keepaliveTimeout = TimeAmount(config.timeouts.keepalive)
        settings.sendTimeout = TimeAmount(config.timeouts.send)
        settings.lingerTimeout = TimeAmount(config.timeouts.linger)
        settings.lingerTotal = TimeAmount(config.timeouts.lingerTotal)
        // Checked by `ListenerSetup` at check, start and reload: valid here.
        if !config.trustedProxies.isEmpty, let trusted = try? CIDRList(parsing: config.trustedProxies) {
            settings.isTrustedProxy = { trusted.contains($0) }
        }
        settings.requestID = config.requestID
        settings.errorPages = config.errorPages.map(ErrorPages.init) ?? ErrorPages()
        if !config.clientLimits.isEmpty {
            let wanted = ClientLimiter.Settings(connectionsPerClient: config.clientLimits.connectionsPerClient,
                                                requestsPerSecond: config.clientLimits.requestsPerSecondPerClient.map(Double.init),
                                                burst: config.clientLimits.burst)
            // A reload with the same limits keeps the table: open connections stay counted.
            if let kept = previous?.settings.clientLimiter, kept.settings == wanted {
                settings.clientLimiter = kept
            } else {
                settings.clientLimiter = ClientLimiter(wanted)
            }
        }
        self.settings = settings
        shutdownGrace = TimeAmount(config.timeouts.shutdown)
        shutdownDelay = TimeAmount(config.timeouts.shutdownDelay)
        accessLog = config.accessLog
        self.config = config
        var groups: [String: UpstreamGroup] = [:]
        var checks: [(group: UpstreamGroup, check: HealthCheck, interval: TimeAmount)] = []
        for upstream in config.upstreams {
            let group: UpstreamGroup
            if let previous, let before = previous.config.upstream(named: upstream.name),
               before.servers == upstream.servers, before.balance == upstream.balance, before.hashKey == upstream.hashKey,
               before.maxFails == upstream.maxFails, before.failTimeout == upstream.failTimeout,
               let kept = previous.upstreamGroups[upstream.name] {
                group = kept
            } else {
                group = Self.group(for: upstream)
            }
            groups[upstream.name] = group
            if let health = upstream.health {
                let check: HealthCheck = health.grpc
                    ? .grpc(service: health.service, timeout: TimeAmount(health.timeout))
                    : .http(path: health.path, expectStatus: health.expectStatus, timeout: TimeAmount(health.timeout))
                checks.append((group, check, TimeAmount(health.interval)))
            }
        }
        upstreamGroups = groups
        healthChecks = checks
        streams = config.streams.map { stream in
            let group: UpstreamGroup
            switch stream.target {
            case .upstream(let name):
                // The loader refuses unknown names; a one-off group keeps this total anyway.
                group = groups[name] ?? StreamSettings.singleServer(host: "invalid", port: 1)
            case .address(let address):
                group = StreamSettings.singleServer(host: address.host, port: address.port)
            }
            var settings = StreamSettings(host: stream.listen.host, port: stream.listen.port, group: group,
                                          connectTimeout: TimeAmount(stream.connectTimeout),
                                          halfCloseTimeout: TimeAmount(stream.halfCloseTimeout))
            settings.sendProxyProtocol = stream.sendProxyProtocol.flatMap(ProxyHeaderEncoder.Version.init(rawValue:))
            return settings
        }
    }

    /// The routes, with proxy routes bound to `upstreams` (built on the server's event loops).
    public func makeRouter(upstreams: UpstreamSet) -> Router {
        Router(routes: config.routes.flatMap { route -> [Router.Route] in
            var responder = Self.responder(for: route.action, upstreams: upstreams)
            // Innermost: the store holds the upstream's answers; every rule outside applies to hits too.
            if let cache = route.cache, let zone = cacheZones[cache.zone], let proxy = responder as? ProxyResponder {
                responder = CacheResponder(zone: zone, config: cache, proxy: proxy)
            }
            if let rules = route.headers, !rules.request.isEmpty || !rules.response.isEmpty {
                responder = HeaderRulesResponder(rules: rules, next: responder)
            }
            // Outside the header rules: it sees the head they edited (a rule's `no-transform`).
            if let compression = route.compression(defaultingTo: config.compression) {
                responder = CompressionResponder(settings: CompressionSettings(compression), next: responder)
            }
            // Inside allow/deny (nginx checks access before auth_basic), outside compression.
            if let request = route.auth?.request {
                let service = ProxyResponder(upstream: upstreams.service(at: request.address, timeout: TimeAmount(request.timeout)))
                responder = AuthRequestResponder(config: request, service: service, next: responder)
            }
            // Basic outside the subrequest: with both, a wrong password never reaches the service.
            if let basic = route.auth?.basic { responder = BasicAuthResponder(config: basic, next: responder) }
            if !route.allow.isEmpty || !route.deny.isEmpty {
                // Checked by `ListenerSetup` at check, start and reload: valid here.
                responder = AccessControlResponder(allow: (try? CIDRList(parsing: route.allow)) ?? CIDRList(),
                                                   deny: (try? CIDRList(parsing: route.deny)) ?? CIDRList(), next: responder)
            }
            // Outermost, so allow/deny's 403 gets its page too; the router's pages for the rest.
            let intercept = if case .proxy(let proxy) = route.action { proxy.intercept } else { false }
            if route.errorPages != nil || intercept {
                let own = route.errorPages.map(ErrorPages.init) ?? ErrorPages()
                responder = ErrorPagesResponder(pages: own.over(settings.errorPages), intercept: intercept, next: responder)
            }
            // Outside everything: a preflight is answered before allow/deny, and errors get the fields.
            if let cors = route.cors { responder = CORSResponder(policy: CORSPolicy(cors), next: responder) }
            // A route naming several hosts is one route per host, sharing its responder and name.
            let label = (route.match.host ?? "") + route.match.path
            guard !route.match.hosts.isEmpty else {
                return [Router.Route(host: nil, pathPrefix: route.match.path, responder: responder, label: label)]
            }
            return route.match.hosts.map { host in
                Router.Route(host: host, pathPrefix: route.match.path, responder: responder, label: label)
            }
        }, defaultHost: config.defaultHost, errorPages: settings.errorPages)
    }

    static func group(for upstream: UpstreamConfig) -> UpstreamGroup {
        let balance: BalanceMethod
        switch upstream.balance {
        case .roundRobin: balance = .roundRobin
        case .leastConn: balance = .leastConnections
        case .random: balance = .randomTwoChoices
        case .consistentHash: balance = .consistentHash
        }
        return UpstreamGroup(
            name: upstream.name,
            servers: upstream.servers.map { UpstreamServer(host: $0.address.host, port: $0.address.port, weight: $0.weight) },
            balance: balance, maxFails: upstream.maxFails, failTimeout: TimeAmount(upstream.failTimeout))
    }

    static func responder(for action: RouteAction, upstreams: UpstreamSet) -> any Responder {
        switch action {
        case .respond(let fixed):
            return FixedResponder(
                status: HTTPResponseStatus(statusCode: fixed.status), body: fixed.body,
                contentType: fixed.contentType, headers: fixed.headers.map { ($0.name, $0.value) })
        case .staticFiles(let files):
            return StaticResponder(root: files.root, index: files.index,
                                   precompressed: files.precompressed.compactMap(ContentCoding.init(rawValue:)),
                                   tryFiles: files.tryFiles.isEmpty ? nil : TryFiles(entries: files.tryFiles),
                                   autoindex: files.autoindex)
        case .redirect(let redirect):
            return RedirectResponder(redirect)
        case .proxy(let proxy):
            return ProxyResponder(upstream: upstreams.upstream(for: proxy.target, secure: proxy.toTLS != nil),
                                  policy: proxy.policy, stripPrefix: proxy.stripPrefix)
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

extension CompressionSettings {
    /// The configured block (validated by the loader: known names, levels in range).
    init(_ config: CompressionConfig) {
        var levels: [ContentCoding: Int] = [:]
        for (name, level) in config.levels {
            if let coding = ContentCoding(rawValue: name) { levels[coding] = level }
        }
        self.init(encodings: config.encodings.compactMap(ContentCoding.init(rawValue:)), minSize: config.minSize,
                  types: config.types, levels: levels)
    }
}

extension ErrorPages {
    /// The pages a config file read, each with the Content-Type of its extension.
    init(_ config: ErrorPagesConfig) {
        func page(_ file: ErrorPagesConfig.Page) -> Page {
            Page(body: ByteBuffer(bytes: file.contents), contentType: MimeTypes.contentType(forPath: file.path))
        }
        self.init(byStatus: config.byStatus.mapValues(page), byClass: config.byClass.mapValues(page))
    }
}
