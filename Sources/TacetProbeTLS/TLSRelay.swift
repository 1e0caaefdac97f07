import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import TacetProbe
import TacetTunnel

/// The probe's TLS, in process: each scenario's `RawClient` connects to a loopback listener, and
/// the relay carries its bytes over a TLS connection to the target. What the raw client does
/// there becomes what a TLS client does: its SHUT_WR becomes `close_notify` (then a FIN) or a bare
/// FIN, as the scenario asks; a client whose socket is gone answers the server's next bytes with
/// an RST, passed on as an RST. The server's `close_notify` or bare FIN reaches the client as a
/// FIN, and is recorded so the report can tell them apart; its RST as an RST.
public final class TLSRelay: ProbeTLSConnector, Sendable {
    /// Whom to believe about the server's certificate.
    public enum Trust: Sendable {
        /// The system's trust store, the name in the URL checked.
        case system
        /// These CAs (`--ca`), the name in the URL checked.
        case certificates([NIOSSLCertificate])
        /// Nothing checked (`--insecure`): for self-signed servers.
        case none

        /// A client configuration that believes what this says, offering `alpn`.
        func clientConfiguration(alpn: [String]) -> TLSConfiguration {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.applicationProtocols = alpn
            switch self {
            case .system: break
            case .certificates(let roots): configuration.trustRoots = .certificates(roots)
            case .none: configuration.certificateVerification = .none
            }
            return configuration
        }
    }

    private let group: MultiThreadedEventLoopGroup
    private let listener: any Channel
    private let context: NIOSSLContext
    private let pairing: Pairing

    public init(trust: Trust) throws {
        context = try NIOSSLContext(configuration: trust.clientConfiguration(alpn: ["http/1.1"]))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pairing = Pairing()
        do {
            listener = try ServerBootstrap(group: group)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(LocalSide())
                        pairing.accepted(channel)
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        self.pairing = pairing
    }

    /// Closes the listener and every relayed connection still open.
    public func shutdown() {
        try? group.syncShutdownGracefully()
    }

    public func connect(host: String, port: Int, ending: TLSEnding, timeout: Double) throws -> any ProbeTLSConnection {
        let remote = try openTLS(host: host, port: port, timeout: timeout)
        let target = "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        let client: RawClient
        let local: any Channel
        do {
            client = try RawClient.connect(host: "127.0.0.1", port: listener.localAddress?.port ?? 0, timeout: timeout,
                                           label: "\(target) over TLS, relayed")
            local = try pairing.channel(forPort: client.localPort, on: listener.eventLoop).wait()
        } catch {
            remote.closeBelowTLS()
            throw error
        }
        let record = EndRecord()
        try remote.eventLoop.submit {
            try RelayLink.join(local: local, remote: remote, ending: ending, record: record)
        }.wait()
        return RelayedConnection(client: client, record: record)
    }

    /// A TCP connection to the target and a finished handshake, within `timeout` seconds. (With
    /// several addresses for a name, each attempt gets its own handlers: the handshake awaited is
    /// the one on the channel that connected.)
    private func openTLS(host: String, port: Int, timeout: Double) throws -> any Channel {
        let context = self.context
        let nanos = Int64(timeout * 1_000_000_000)
        let serverName = Self.isIPAddress(host) ? nil : host
        let channel: any Channel
        do {
            channel = try ClientBootstrap(group: group)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connectTimeout(.nanoseconds(nanos))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let tls = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                        let remote = RemoteSide(handshake: channel.eventLoop.makePromise())
                        try channel.pipeline.syncOperations.addHandlers([SocketEnd(), tls, remote])
                    }
                }
                .connect(host: host, port: port).wait()
        } catch {
            throw ProbeError("cannot connect to \(host):\(port): \(error)")
        }
        do {
            let handshake = try channel.eventLoop.submit {
                try channel.pipeline.syncOperations.handler(type: RemoteSide.self).handshake
            }.wait()
            let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(nanos)) {
                handshake.fail(ProbeError("TLS handshake with \(host):\(port) did not finish in \(timeout) s"))
                channel.closeBelowTLS()
            }
            defer { deadline.cancel() }
            try handshake.futureResult.wait()
        } catch {
            channel.closeBelowTLS()
            if let probeError = error as? ProbeError { throw probeError }
            throw ProbeError("TLS handshake with \(host):\(port) failed: \(Self.reason(error))")
        }
        return channel
    }

    /// BoringSSL's reason ("CERTIFICATE_VERIFY_FAILED") without the file and line around it.
    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        guard let start = text.range(of: "OPENSSL_internal:") else { return text }
        let rest = text[start.upperBound...]
        return String(rest[..<(rest.range(of: " at ")?.lowerBound ?? rest.endIndex)])
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// Matches each accepted loopback connection with the raw client that made it, by its port:
/// whichever of the two arrives first waits for the other.
private final class Pairing: Sendable {
    private struct State {
        var accepted: [Int: any Channel] = [:]
        var waiting: [Int: EventLoopPromise<any Channel>] = [:]
    }
    private let state = NIOLockedValueBox(State())

    func accepted(_ channel: any Channel) {
        guard let port = channel.remoteAddress?.port else { channel.close(promise: nil); return }
        let waiter = state.withLockedValue { s -> EventLoopPromise<any Channel>? in
            if let waiter = s.waiting.removeValue(forKey: port) { return waiter }
            s.accepted[port] = channel
            return nil
        }
        waiter?.succeed(channel)
    }

    func channel(forPort port: Int, on loop: any EventLoop) -> EventLoopFuture<any Channel> {
        let promise = loop.makePromise(of: (any Channel).self)
        let ready = state.withLockedValue { s -> (any Channel)? in
            if let channel = s.accepted.removeValue(forKey: port) { return channel }
            s.waiting[port] = promise
            return nil
        }
        if let ready { promise.succeed(ready) }
        return promise.futureResult
    }
}

/// How the server ended, written on the relay's loop, read by the probe's thread.
final class EndRecord: Sendable {
    private let value = NIOLockedValueBox<String?>(nil)
    func set(_ end: String) { value.withLockedValue { if $0 == nil { $0 = end } } }
    func get() -> String? { value.withLockedValue { $0 } }
}

private final class RelayedConnection: ProbeTLSConnection {
    let client: RawClient
    private let record: EndRecord

    init(client: RawClient, record: EndRecord) {
        self.client = client
        self.record = record
    }

    func serverEnding() -> String? { record.get() }
}
