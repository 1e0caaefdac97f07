import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetHTTP

/// A running Tacet: the event loops, the HTTP listeners and the logs made from one configuration.
public final class TacetServer: Sendable {
    public let group: MultiThreadedEventLoopGroup
    private let http: HTTPServer
    private let runtime: RuntimeConfiguration
    private let ownsGroup: Bool
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
        self.upstreams = UpstreamSet(config: configuration, eventLoopGroup: self.group)
        self.http = HTTPServer(group: self.group, settings: runtime.settings,
                               responder: runtime.makeRouter(upstreams: upstreams),
                               accessLog: accessLog, logger: logger)
    }

    /// Binds every listen address; returns what was bound.
    @discardableResult
    public func start() async throws -> [SocketAddress] {
        let bound = try await http.start(listen: runtime.listen)
        upstreams.startHealthChecks()
        return bound
    }

    public var connectionCount: Int { http.connectionCount }

    /// Graceful stop: no new connections, in-flight requests finish within the shutdown timeout.
    public func shutdown() async {
        upstreams.stopHealthChecks()
        await http.shutdown(gracePeriod: runtime.shutdownGrace)
        if ownsGroup { try? await group.shutdownGracefully() }
    }
}
