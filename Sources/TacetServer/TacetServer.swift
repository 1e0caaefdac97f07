import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetConfig
import TacetHTTP
import TacetStream
import TacetUpstream

/// A running Tacet: the event loops, the HTTP and stream listeners, health checks and the logs
/// made from one configuration.
public final class TacetServer: Sendable {
    public let group: MultiThreadedEventLoopGroup
    private let http: HTTPServer
    private let runtime: RuntimeConfiguration
    private let ownsGroup: Bool
    private let streamListeners: [StreamListener]
    private let healthChecker = HealthChecker()
    private let boundStreams = NIOLockedValueBox<[SocketAddress]>([])
    private let admin: AdminListener?
    private let boundAdmin = NIOLockedValueBox<SocketAddress?>(nil)
    public let logger: Logger
    public let upstreams: UpstreamSet

    public init(configuration: TacetConfiguration, threads: Int = System.coreCount,
                group: MultiThreadedEventLoopGroup? = nil, logger: Logger = Logger(label: "tacet")) throws {
        self.runtime = RuntimeConfiguration(configuration)
        self.ownsGroup = group == nil
        self.group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        self.logger = logger
        let accessLog: AccessLog?
        let format: AccessLog.Format = configuration.accessLog.format == .json ? .json : .combined
        switch configuration.accessLog.destination {
        case .off: accessLog = nil
        case .stdout: accessLog = AccessLog(standardOutputWithFormat: format)
        case .file(let path): accessLog = try AccessLog(path: path, format: format)
        }
        self.upstreams = UpstreamSet(config: configuration, groups: runtime.upstreamGroups, eventLoopGroup: self.group)
        let router = runtime.makeRouter(upstreams: upstreams)
        let group = self.group
        let upstreams = self.upstreams
        // Without `admin:` nothing observes: no metrics work on the hot path at all.
        let admin = configuration.admin.map {
            AdminListener(config: $0, routeLabels: router.routes.map(\.label), upstreams: upstreams,
                          group: group, logger: logger)
        }
        self.admin = admin
        self.http = HTTPServer(group: group,
                               state: ListenerState(settings: runtime.settings, responder: router, accessLog: accessLog,
                                                    observer: admin?.metrics ?? NoObserver()),
                               logger: logger)
        self.streamListeners = runtime.streams.map { settings in
            var settings = settings
            if let metrics = admin?.metrics { settings.observer = metrics }
            return StreamListener(group: group, settings: settings, logger: logger)
        }
    }

    /// Binds every HTTP listen address and every stream listener, and starts health checks;
    /// returns the HTTP addresses bound (the stream ones are in `streamAddresses`).
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        let bound = try await http.start(listen: runtime.listen)
        for listener in streamListeners {
            let address = try await listener.start()
            boundStreams.withLockedValue { $0.append(address) }
        }
        if let admin {
            let address = try await admin.start()
            boundAdmin.withLockedValue { $0 = address }
        }
        for (upstream, check, interval) in runtime.healthChecks {
            healthChecker.start(group: upstream, eventLoopGroup: group, check: check, interval: interval)
        }
        return bound
    }

    /// The addresses the stream listeners bound, in config order (useful with port 0).
    public var streamAddresses: [SocketAddress] { boundStreams.withLockedValue { $0 } }

    /// The admin listener's address (`admin:`), once started; nil without one.
    public var adminAddress: SocketAddress? { boundAdmin.withLockedValue { $0 } }

    /// The upstream groups, by name (the same objects the proxies use).
    public var upstreamGroups: [String: UpstreamGroup] { runtime.upstreamGroups }

    public var connectionCount: Int { http.connectionCount }

    /// Graceful stop: no new connections, in-flight requests finish within the shutdown timeout.
    public func shutdown() async {
        healthChecker.stop()
        for listener in streamListeners { await listener.stop() }
        await http.shutdown(gracePeriod: runtime.shutdownGrace)
        // Last: metrics stay scrapable while the public listeners drain.
        await admin?.shutdown()
        if ownsGroup { try? await group.shutdownGracefully() }
    }
}
