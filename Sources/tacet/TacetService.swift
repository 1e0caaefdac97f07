import NIOCore
import ServiceLifecycle
import TacetServer

/// The server as a swift-service-lifecycle `Service`: it binds, announces, serves until the
/// `ServiceGroup` asks for a graceful shutdown (SIGTERM or SIGINT), then stops accepting and
/// lets in-flight requests finish within `shutdown_timeout`. The lifecycle library only runs the
/// process; requests never touch Swift concurrency (no Task per request).
struct TacetService: Service {
    let server: TacetServer
    /// Called once everything is bound: HTTP addresses, then stream addresses.
    let announce: @Sendable (_ http: [SocketAddress], _ streams: [SocketAddress]) -> Void

    func run() async throws {
        let bound: [SocketAddress]
        do {
            bound = try await server.start()
        } catch {
            await server.shutdown()
            throw StartFailure(underlying: error)
        }
        announce(bound, server.streamAddresses)
        // Returns when graceful shutdown is asked for, throws when the group is cancelled
        // instead (another service failed): either way, stop gracefully.
        try? await gracefulShutdown()
        server.logger.notice("shutting down")
        await server.shutdown()
    }

    struct StartFailure: Error, CustomStringConvertible {
        var underlying: any Error
        var description: String { "cannot listen: \(underlying)" }
    }
}
