import NIOCore
import TacetTunnel

/// How the route that turned a connection into a byte tunnel reports the tunnel's end: the
/// access-log line (status 101, bytes each way), the connection's end line and its metrics.
public struct TunnelEnd {
    let report: (ConnectionEndReason, Int, Int) -> Void

    /// `bytesUp`: from the client; `bytesDown`: to the client.
    public func finish(_ reason: ConnectionEndReason, bytesUp: Int, bytesDown: Int) {
        report(reason, bytesUp, bytesDown)
    }
}

/// After a 101: the connection stops being HTTP. The handler gives its place in the pipeline to
/// the tunnel's glue and leaves; FIN, RST, backpressure and timeouts are then the tunnel's
/// (`TunnelStateMachine`), the same machine the TCP stream proxy runs.
extension HTTPConnectionHandler {
    func handOver(_ id: UInt64, to glue: any ChannelHandler) -> TunnelEnd? {
        guard let current = exchange, current.id == id, machine.responseStatus == 101,
              let context, context.channel.isActive,
              (try? context.pipeline.syncOperations.addHandler(glue, position: .after(self))) != nil else { return nil }
        current.handler = nil
        machine.handedOver()
        releaseHeld(flush: true)
        // Bytes the client sent right after its request belong to the new protocol; the tunnel
        // counts them as it forwards them.
        if pending.readableBytes > 0 {
            let early = pending
            pending = ByteBuffer()
            log.bytesIn -= early.readableBytes
            context.fireChannelRead(NIOAny(early))
        }
        if machine.inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        return TunnelEnd { [self] reason, up, down in tunnelFinished(reason, bytesUp: up, bytesDown: down) }
    }

    /// The tunnel is over: one access-log line for the exchange, one end line for the connection.
    private func tunnelFinished(_ reason: ConnectionEndReason, bytesUp: Int, bytesDown: Int) {
        log.bytesIn += bytesUp
        log.bytesOut += bytesDown
        exchange?.bodyBytes += bytesDown
        machine.tunnelFinished(reason)
        finishExchange(end: reason.rawValue)
        logConnectionEnd()
    }
}
