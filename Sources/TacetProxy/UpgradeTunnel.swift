import NIOCore
import TacetHTTP
import TacetTunnel

/// A WebSocket (any `Upgrade`) through the proxy once the upstream's 101 is through: both
/// connections handed to glue handlers and one `TunnelSession`, the TCP stream proxy's machine.
/// Each FIN passes in its own direction, an RST on one side becomes an RST on the other,
/// `half_close_timeout` runs after the first FIN, and no byte either way for `read_timeout`
/// ends it with a FIN to both (nginx's proxy_read_timeout on an upgraded connection).
final class UpgradeTunnel: TunnelSessionDelegate {
    private let selector: any UpstreamSelector
    private let server: Int
    private var end: TunnelEnd?

    private init(selector: any UpstreamSelector, server: Int) {
        self.selector = selector
        self.server = server
    }

    static func start(client writer: ResponseWriter, upstream connection: UpstreamConnection,
                      selector: any UpstreamSelector, server: Int, settings: Upstream.Settings) {
        let session = TunnelSession(loop: writer.eventLoop, halfCloseTimeout: settings.halfCloseTimeout,
                                    idleTimeout: settings.readTimeout)
        let tunnel = UpgradeTunnel(selector: selector, server: server)
        session.delegate = tunnel
        let clientGlue = GlueHandler(side: .client, session: session)
        let upstreamGlue = GlueHandler(side: .upstream, session: session)
        guard let end = writer.handOver(to: clientGlue) else {
            // The client is gone already: so is the upstream side, never with a FIN.
            selector.connectionClosed(server)
            connection.reset()
            return
        }
        tunnel.end = end
        do {
            try connection.handOver(to: upstreamGlue)
        } catch {
            clientGlue.context?.channel.resetNow()
            connection.reset()
            session.abandon()
            return
        }
        session.glue()
    }

    func tunnelSideGoneBeforeGlue(_ side: TunnelStateMachine.Side) {}

    func tunnelEnded(_ session: TunnelSession) {
        // Counted as busy until now, so least_conn sees a long-lived WebSocket.
        selector.connectionClosed(server)
        let machine = session.machine
        let reason: ConnectionEndReason
        switch (machine.end, machine.firstClose?.side) {
        case (.clean?, .client?): reason = .clientFIN
        case (.reset?, .client?): reason = .clientRST
        case (.timeout?, _), (.idle?, _): reason = .timeout
        default: reason = .serverClose
        }
        end?.finish(reason, bytesUp: session.bytesUp, bytesDown: session.bytesDown)
        end = nil
    }
}
