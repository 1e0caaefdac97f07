import Foundation
import Logging
import NIOCore
import NIOPosix
import TacetHTTP
import TacetTunnel
import TacetProbe
import TacetServer
import TacetTestSupport

/// A Tacet HTTP listener on 127.0.0.1, port 0, in this process, with its access log in a temp file.
final class LiveServer: Stoppable {
    let server: HTTPServer
    let group: MultiThreadedEventLoopGroup
    let port: Int
    let accessLogPath: String

    private init(server: HTTPServer, group: MultiThreadedEventLoopGroup, port: Int, accessLogPath: String) {
        self.server = server
        self.group = group
        self.port = port
        self.accessLogPath = accessLogPath
    }

    static func start(settings: ServerSettings = ServerSettings(), routes: [Router.Route]) async throws -> LiveServer {
        try await start(settings: settings, threads: 1) { _ in routes }
    }

    /// `makeRoutes` gets the server's event loops (a proxy's upstream pools live on them).
    static func start(settings: ServerSettings = ServerSettings(), threads: Int = 1, prelude: (any ConnectionPrelude)? = nil,
                      protocols: (any HTTPProtocolInstaller)? = nil, observer: any HTTPObserver = NoObserver(),
                      makeRoutes: (MultiThreadedEventLoopGroup) -> [Router.Route]) async throws -> LiveServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let routes = makeRoutes(group)
        let logPath = NSTemporaryDirectory() + "tacet-access-\(UUID().uuidString).log"
        let accessLog = try AccessLog(path: logPath)
        var logger = Logger(label: "tacet-test")
        logger.logLevel = .warning
        let server = HTTPServer(group: group, state: ListenerState(settings: settings, responder: Router(routes: routes),
                                                                  accessLog: accessLog, observer: observer), logger: logger)
        let bound = try await server.listen([ListenSpec(host: "127.0.0.1", port: 0, prelude: prelude, protocols: protocols)]).addresses
        guard let port = bound.first?.port else { throw TestFailure("no port bound") }
        return LiveServer(server: server, group: group, port: port, accessLogPath: logPath)
    }

    static func start(settings: ServerSettings = ServerSettings(), _ responder: any Responder) async throws -> LiveServer {
        try await start(settings: settings, routes: [Router.Route(host: nil, pathPrefix: "/", responder: responder)])
    }

    /// A new connection to this server; its waiting calls run off the cooperative pool.
    /// `sending`: a request written right after the connect, on the same thread.
    func connect(sending request: String? = nil) async throws -> OffPoolClient {
        try await OffPoolClient.connect(host: "127.0.0.1", port: port, timeout: 5, sending: request)
    }

    func stop() async {
        await server.shutdown(gracePeriod: .seconds(1))
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: accessLogPath)
    }

    var accessLogLines: [String] {
        ((try? String(contentsOfFile: accessLogPath, encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// Waits until the server has no open connection (bounded; not a timing assertion).
    func waitForNoConnections(timeout: Double = 30) async -> Bool {
        await eventually(timeout: timeout) { self.server.connectionCount == 0 }
    }

    func waitForAccessLog(containing text: String, timeout: Double = 30) async -> Bool {
        await eventually(timeout: timeout) { self.accessLogLines.contains { $0.contains(text) } }
    }
}

func get(_ path: String, _ extra: String = "") -> String {
    "GET \(path) HTTP/1.1\r\nHost: test\r\n\(extra)\r\n"
}

extension TacetServer: Stoppable {
    /// A test stops a whole server with its graceful shutdown.
    public func stop() async { await shutdown() }
}
