import NIOCore
import NIOSSL
import NIOTLS
import TacetProbe
import TacetTunnel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One relayed connection: the raw client's loopback socket (`local`) and the TLS connection to
/// the server (`remote`), both on the relay's one loop. Each direction's end is passed on as
/// what it means; both ends seen, both sockets close.
final class RelayLink {
    private let local: any Channel
    private let remote: any Channel
    private let ending: TLSEnding
    private let record: EndRecord
    private var clientHalfClosed = false
    private var serverEnded = false

    private init(local: any Channel, remote: any Channel, ending: TLSEnding, record: EndRecord) {
        self.local = local
        self.remote = remote
        self.ending = ending
        self.record = record
    }

    /// Links the two channels; bytes the server sent before (none, for HTTP) go to the client first.
    static func join(local: any Channel, remote: any Channel, ending: TLSEnding, record: EndRecord) throws {
        let link = RelayLink(local: local, remote: remote, ending: ending, record: record)
        try local.pipeline.syncOperations.handler(type: LocalSide.self).attach(link)
        try remote.pipeline.syncOperations.handler(type: RemoteSide.self).attach(link)
    }

    // MARK: Client to server

    // Each chunk is flushed as it comes: NIOSSL may deliver decrypted bytes without a read
    // complete after them (data that arrived with the handshake's last flight), and a probe's
    // timings matter more than its batching.
    func fromClient(_ bytes: ByteBuffer) {
        remote.writeAndFlush(bytes, promise: nil)
        if !remote.isWritable { local.setOption(.autoRead, value: false).whenFailure { _ in } }
    }

    func remoteWritabilityChanged() {
        local.setOption(.autoRead, value: remote.isWritable).whenFailure { _ in }
    }

    /// The client's SHUT_WR: `close_notify` then a FIN, or a FIN alone, as the scenario asks.
    func clientFIN() {
        guard !clientHalfClosed else { return }
        clientHalfClosed = true
        switch ending {
        case .closeNotify:
            remote.close(mode: .output, promise: nil)
        case .bareFIN:
            (try? remote.pipeline.syncOperations.handler(type: SocketEnd.self))?.shutdownOutputNow()
        }
        finishIfDone()
    }

    /// The client's socket is gone (its kernel answered our bytes with an RST, or it reset):
    /// the server gets an RST, as from a client that closed and then received data.
    func clientGone() {
        if serverEnded { remote.closeBelowTLS() } else { remote.resetNow() }
        serverEnded = true
        clientHalfClosed = true
        local.close(promise: nil)
    }

    // MARK: Server to client

    func fromServer(_ bytes: ByteBuffer) {
        local.writeAndFlush(bytes, promise: nil)
        if !local.isWritable { remote.setOption(.autoRead, value: false).whenFailure { _ in } }
    }

    func localWritabilityChanged() {
        remote.setOption(.autoRead, value: local.isWritable).whenFailure { _ in }
    }

    /// The server's end of its sending: recorded first, then a FIN to the client.
    func serverFIN(_ how: String) {
        guard !serverEnded else { return }
        serverEnded = true
        record.set(how)
        local.close(mode: .output, promise: nil)
        finishIfDone()
    }

    func serverReset() {
        guard !serverEnded else { return }
        serverEnded = true
        record.set("RST")
        local.resetNow()
        remote.closeBelowTLS()
    }

    private func finishIfDone() {
        guard clientHalfClosed, serverEnded else { return }
        local.close(promise: nil)
        remote.closeBelowTLS()
    }
}

/// On the loopback socket the raw client drives. Until the link exists (between accept and
/// pairing) it keeps what comes.
final class LocalSide: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var link: RelayLink?
    private var early: [ByteBuffer] = []
    private var earlyEnd: Bool?  // true: FIN, false: gone

    func attach(_ link: RelayLink) {
        self.link = link
        for bytes in early { link.fromClient(bytes) }
        early = []
        if let earlyEnd { earlyEnd ? link.clientFIN() : link.clientGone() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if let link { link.fromClient(bytes) } else { early.append(bytes) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) { link?.localWritabilityChanged() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { ended(fin: true) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { ended(fin: false) }
    func channelInactive(context: ChannelHandlerContext) { ended(fin: false) }

    private func ended(fin: Bool) {
        guard let link else {
            if earlyEnd == nil { earlyEnd = fin }
            return
        }
        fin ? link.clientFIN() : link.clientGone()
    }
}

/// On the TLS connection, after NIOSSL: reports the handshake, then passes the server's bytes and
/// its end on. Before the link exists (between handshake and pairing) it keeps what comes.
final class RemoteSide: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let handshake: EventLoopPromise<Void>
    private var link: RelayLink?
    private var early: [ByteBuffer] = []
    private var earlyEnd: String?
    private var handshakeDone = false

    init(handshake: EventLoopPromise<Void>) { self.handshake = handshake }

    func attach(_ link: RelayLink) {
        self.link = link
        for bytes in early { link.fromServer(bytes) }
        early = []
        if let earlyEnd { earlyEnd == "RST" ? link.serverReset() : link.serverFIN(earlyEnd) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        if let link { link.fromServer(bytes) } else { early.append(bytes) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) { link?.remoteWritabilityChanged() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            handshakeDone = true
            handshake.succeed(())
        }
        if case ChannelEvent.inputClosed = event { ended("close_notify") }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard handshakeDone else {
            handshake.fail(error)
            context.channel.closeBelowTLS()
            return
        }
        if case NIOSSLError.uncleanShutdown = error {
            ended("FIN without close_notify")
        } else {
            ended("RST")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(ChannelError.ioOnClosedChannel)
        // After our own close_notify, NIOSSL may close the channel on the server's before it
        // reports the input closed: let that report come first.
        context.eventLoop.assumeIsolated().execute { self.ended("FIN without close_notify") }
    }

    private func ended(_ how: String) {
        guard let link else {
            if earlyEnd == nil { earlyEnd = how }
            return
        }
        if how == "RST" { link.serverReset() } else { link.serverFIN(how) }
    }
}
