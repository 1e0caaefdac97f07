import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Channel {
    /// Sets SO_LINGER {1, 0}, so the next close sends an RST instead of a FIN: for passing on a
    /// reset, where a FIN would tell the peer that a cut-off stream ended cleanly. On the
    /// channel's own loop the option is set synchronously, before any close that follows.
    /// (NIO's `.socketOption` takes C ints only; `linger` is a struct, hence the provider.)
    public func setResetOnClose() {
        if let provider = self as? any SocketOptionProvider {
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenFailure { _ in }
        }
    }

    /// Closes with an RST: SO_LINGER {1, 0}, then close, at the socket (under TLS too: see
    /// `SocketEnd`). Nothing if already closed.
    public func resetNow() {
        guard isActive else { return }
        setResetOnClose()
        if eventLoop.inEventLoop, let end = try? pipeline.syncOperations.handler(type: SocketEnd.self) {
            end.closeNow()
            return
        }
        close(promise: nil)
    }

    /// Closes at the socket, under TLS (see `SocketEnd`): no `close_notify`, no wait of up to
    /// NIOSSL's shutdown timeout for the peer's. A plain close where there is no `SocketEnd`.
    public func closeBelowTLS() {
        if eventLoop.inEventLoop {
            if let end = try? pipeline.syncOperations.handler(type: SocketEnd.self) { end.closeNow() } else { close(promise: nil) }
        } else {
            eventLoop.execute { self.closeBelowTLS() }
        }
    }
}
