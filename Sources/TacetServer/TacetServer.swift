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
        self.http = HTTPServer(group: self.group, settings: runtime.settings,
                               responder: runtime.makeRouter(upstreams: upstreams),
                               accessLog: accessLog, logger: logger)
        let group = self.group
        self.streamListeners = runtime.streams.map { StreamListener(group: group, settings: $0, logger: logger) }
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
        for (upstream, check, interval) in runtime.healthChecks {
            healthChecker.start(group: upstream, eventLoopGroup: group, check: check, interval: interval)
        }
        return bound
    }

    /// The addresses the stream listeners bound, in config order (useful with port 0).
    public var streamAddresses: [SocketAddress] { boundStreams.withLockedValue { $0 } }

    /// The upstream groups, by name (the same objects the proxies use).
    public var upstreamGroups: [String: UpstreamGroup] { runtime.upstreamGroups }

    public var connectionCount: Int { http.connectionCount }

    /// Graceful stop: no new connections, in-flight requests finish within the shutdown timeout.
    public func shutdown() async {
        healthChecker.stop()
        for listener in streamListeners { await listener.stop() }
        await http.shutdown(gracePeriod: runtime.shutdownGrace)
        if ownsGroup { try? await group.shutdownGracefully() }
    }
}
