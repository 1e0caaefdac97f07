import Logging
import NIOConcurrencyHelpers
import NIOCore
import TacetTunnel
import NIOPosix
import TacetConfig
import TacetHTTP
import TacetStream
import TacetUpstream

/// A running Tacet: the event loops, the HTTP and stream listeners, health checks and the logs
/// made from one configuration, which `reload(configuration:)` replaces without closing a
/// listening socket that stays in the new one.
public final class TacetServer: Sendable {
    public let group: MultiThreadedEventLoopGroup
    let http: HTTPServer
    let ownsGroup: Bool
    /// What the current configuration made; replaced whole by a reload.
    let current: NIOLockedValueBox<Generation>
    /// Stream listeners with the address each bound, in config order.
    let streams = NIOLockedValueBox<[(listener: StreamListener, address: SocketAddress?)]>([])
    /// `admin:` as the server started (metrics, health); a reload may move it, not add or remove it.
    let admin: AdminListener?
    let boundAdmin = NIOLockedValueBox<SocketAddress?>(nil)
    public let logger: Logger
    /// `acme:` as the server started: certificates obtained and renewed in the background.
    public let acme: ACMEManager?
    /// Reloads one at a time, whoever asks (SIGHUP, a renewed certificate).
    let reloads = SerialGate()

    /// What one configuration made, besides the listening sockets (which outlive it).
    struct Generation: Sendable {
        var runtime: RuntimeConfiguration
        /// The HTTP listen addresses, TLS ones with their certificates loaded.
        var listeners: [ListenSpec]
        /// TLS and PROXY header reading for the streams that have them, by index.
        var streamPreludes: [Int: any ConnectionPrelude] = [:]
        var upstreams: UpstreamSet
        var accessLog: AccessLog?
        var healthChecker: HealthChecker
    }

    public init(configuration: TacetConfiguration, threads: Int = System.coreCount,
                scheduling: LoopScheduling = .normal,
                group: MultiThreadedEventLoopGroup? = nil, logger: Logger = Logger(label: "tacet")) throws {
        var runtime = RuntimeConfiguration(configuration)
        let acme = try configuration.acme.map { config in
            do {
                return try ACMEManager(config: config, logger: logger)
            } catch {
                throw ListenerSetupError(keyPath: "acme.storage", line: config.line, message: "\(error)")
            }
        }
        acme?.configure(configuration)
        self.acme = acme
        // Certificates first, so a bad file fails before anything is made (metrics see the
        // handshakes of the listeners made again below, once the admin listener exists).
        _ = try ListenerSetup.specs(configuration, logger: logger, managed: acme)
        try runtime.openCacheZones(previous: nil, logger: logger)
        let upstreamTLS = try UpstreamTLSSetup(configuration, logger: logger)
        self.ownsGroup = group == nil
        let group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        scheduling.apply(to: group, logger: logger)
        self.group = group
        self.logger = logger
        let accessLog = try Self.makeAccessLog(configuration.accessLog, reusing: nil)
        let upstreams = UpstreamSet(config: configuration, groups: runtime.upstreamGroups, eventLoopGroup: group,
                                    tls: upstreamTLS)
        let router = runtime.makeRouter(upstreams: upstreams)
        // Without `admin:` nothing observes: no metrics work on the hot path at all.
        let admin = configuration.admin.map {
            AdminListener(config: $0, routeLabels: router.routes.map(\.label), upstreams: upstreams,
                          group: group, logger: logger)
        }
        self.admin = admin
        let listeners = try ListenerSetup.specs(configuration, logger: logger, observer: admin?.metrics ?? NoObserver(), managed: acme)
        let streamPreludes = try ListenerSetup.streamPreludes(configuration, logger: logger, observer: admin?.metrics ?? NoObserver())
        admin?.metrics.configure(certificates: ListenerSetup.certificates(of: listeners))
        admin?.configure(cacheZones: runtime.cacheZones)
        admin?.configure(acme: acme)
        self.http = HTTPServer(group: group,
                               state: ListenerState(settings: runtime.settings, responder: Self.answeringChallenges(router, acme),
                                                    accessLog: accessLog,
                                                    observer: admin?.metrics ?? NoObserver()),
                               logger: logger)
        self.current = NIOLockedValueBox(Generation(runtime: runtime, listeners: listeners, streamPreludes: streamPreludes,
                                                    upstreams: upstreams, accessLog: accessLog, healthChecker: HealthChecker()))
    }

    /// Binds every HTTP listen address and every stream listener, and starts health checks;
    /// returns the HTTP addresses bound (the stream ones are in `streamAddresses`).
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        let generation = current.withLockedValue { $0 }
        let bound = try await http.listen(generation.listeners).addresses
        for settings in observed(generation.runtime.streams, preludes: generation.streamPreludes) {
            let listener = StreamListener(group: group, settings: settings, logger: logger)
            let address = try await listener.start()
            streams.withLockedValue { $0.append((listener, address)) }
        }
        if let admin {
            let address = try await admin.start()
            boundAdmin.withLockedValue { $0 = address }
        }
        Self.startHealthChecks(generation, on: group)
        acme?.start(group: group) { [self] in await reloadCertificates() }
        return bound
    }

    /// http-01 answered before the routes, when ACME is on.
    static func answeringChallenges(_ router: Router, _ acme: ACMEManager?) -> any Responder {
        acme.map { ACMEChallengeResponder(tokens: $0.tokens, next: router) } ?? router
    }

    /// A certificate was stored: the current configuration again, so listeners present it.
    func reloadCertificates() async {
        do {
            _ = try await reload(configuration: current.withLockedValue { $0.runtime.config })
            logger.notice("ACME: new certificates in use")
            acme?.swappedIn()
        } catch {
            logger.error("ACME: a new certificate is stored but could not be swapped in: \(error)")
        }
    }

    /// The addresses the stream listeners bound, in config order (useful with port 0).
    public var streamAddresses: [SocketAddress] { streams.withLockedValue { $0.compactMap(\.address) } }

    /// The admin listener's address (`admin:`), once started; nil without one.
    public var adminAddress: SocketAddress? { boundAdmin.withLockedValue { $0 } }

    /// The streams' settings with metrics (when `admin:` is on) and their preludes (TLS, PROXY
    /// header reading) where configured.
    func observed(_ streams: [StreamSettings], preludes: [Int: any ConnectionPrelude]) -> [StreamSettings] {
        let metrics = admin?.metrics
        return streams.enumerated().map { i, settings in
            var settings = settings
            if let metrics { settings.observer = metrics }
            settings.prelude = preludes[i]
            return settings
        }
    }

    /// The current configuration's upstream groups, by name (the same objects the proxies use).
    public var upstreamGroups: [String: UpstreamGroup] { current.withLockedValue { $0.runtime.upstreamGroups } }

    /// The current configuration's proxy upstreams.
    public var upstreams: UpstreamSet { current.withLockedValue { $0.upstreams } }

    public var connectionCount: Int { http.connectionCount }

    /// SIGUSR1: reopens the access log file (after logrotate moved it away). Standard output
    /// is left alone. On failure the old file stays in use and the error is thrown.
    public func reopenLogs() throws {
        try current.withLockedValue { $0.accessLog }?.reopen()
    }

    /// Graceful stop: no new connections, in-flight requests finish within the shutdown timeout.
    public func shutdown() async {
        acme?.stop()
        admin?.startDraining()
        let generation = current.withLockedValue { $0 }
        // Not ready any more, still accepting: a balancer checking /ready stops sending first.
        let delay = generation.runtime.shutdownDelay
        if delay > .zero { try? await Task.sleep(nanoseconds: UInt64(delay.nanoseconds)) }
        generation.healthChecker.stop()
        let listeners = streams.withLockedValue { s in
            defer { s = [] }
            return s
        }
        for (listener, _) in listeners { await listener.stop() }
        // Streams and HTTP connections drain side by side, within the same grace period.
        let grace = generation.runtime.shutdownGrace
        async let streamsDrained: Void = {
            for (listener, _) in listeners { await listener.drain(gracePeriod: grace) }
        }()
        await http.shutdown(gracePeriod: grace)
        await streamsDrained
        // Last: metrics stay scrapable while the public listeners drain.
        await admin?.shutdown()
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    static func startHealthChecks(_ generation: Generation, on group: any EventLoopGroup) {
        for (upstream, check, interval) in generation.runtime.healthChecks {
            generation.healthChecker.start(group: upstream, eventLoopGroup: group, check: check, interval: interval)
        }
    }

    /// The access log `config` asks for; `previous` is reused when it is the same destination
    /// and format: a reload then keeps writing to the same open file.
    static func makeAccessLog(_ config: AccessLogConfig,
                              reusing previous: (config: AccessLogConfig, log: AccessLog?)?) throws -> AccessLog? {
        if let previous, previous.config == config { return previous.log }
        let format: AccessLog.Format = config.format == .json ? .json : .combined
        switch config.destination {
        case .off: return nil
        case .stdout: return AccessLog(standardOutputWithFormat: format)
        case .file(let path): return try AccessLog(path: path, format: format)
        }
    }
}
