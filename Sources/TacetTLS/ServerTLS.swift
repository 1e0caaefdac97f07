import Logging
import NIOCore
import TacetTunnel
import NIOSSL
import TacetHTTP

/// A TLS listener's setup, built once per configuration (and again on reload): one NIOSSL
/// context presenting the first certificate, a ClientHello callback that swaps in another by
/// SNI, ALPN offering `h2` (when HTTP/2 is on) then `http/1.1`, and what every accepted
/// connection gets in front of HTTP.
public final class ServerTLS: ConnectionPrelude {
    public let certificates: [LoadedCertificate]
    public let minimumVersion: TLSVersion
    public let handshakeTimeout: TimeAmount
    public var isSecure: Bool { true }
    private let context: NIOSSLContext
    private let logger: Logger
    private let observer: any HTTPObserver
    /// tls-alpn-01 challenges to answer before the listener's own TLS (ACME on), or nil.
    private let challenges: (any ALPNChallengeCertificates)?

    /// `certificates`: the first is the default. Throws when no context can be made of them.
    public init(certificates: [LoadedCertificate], minimumVersion: TLSVersion, handshakeTimeout: TimeAmount,
                http2: Bool = false, logger: Logger, observer: any HTTPObserver = NoObserver(),
                challenges: (any ALPNChallengeCertificates)? = nil) throws {
        self.observer = observer
        self.challenges = challenges
        precondition(!certificates.isEmpty, "a TLS listener has at least one certificate")
        self.certificates = certificates
        self.minimumVersion = minimumVersion
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
        let first = certificates[0]
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: first.chain.map { .certificate($0) }, privateKey: .privateKey(first.key))
        configuration.minimumTLSVersion = minimumVersion
        configuration.applicationProtocols = http2 ? ["h2", "http/1.1"] : ["http/1.1"]
        if certificates.count > 1 {
            let names = ServerNames(certificates.map(\.names))
            let overrides: [NIOSSLContextConfigurationOverride] = certificates.map { certificate in
                var override = NIOSSLContextConfigurationOverride()
                override.certificateChain = certificate.chain.map { .certificate($0) }
                override.privateKey = .privateKey(certificate.key)
                return override
            }
            configuration.sslContextCallback = { values, promise in
                if let index = names.certificate(for: values.serverHostname), index != 0 {
                    promise.succeed(overrides[index])
                } else {
                    promise.succeed(.noChanges)
                }
            }
        }
        self.context = try NIOSSLContext(configuration: configuration)
    }

    /// The handlers a TLS connection has before HTTP: plain HTTP answered with a 400, the TLS
    /// handler, the handshake deadline, TLS's own ends read for what they mean, and files read
    /// into buffers (no sendfile through TLS).
    public func configure(_ channel: any Channel) throws {
        let tls: any ChannelHandler = challenges.map { ALPNChallengeRouter(context: context, challenges: $0) }
            ?? NIOSSLServerHandler(context: context)
        let handlers: [any ChannelHandler] = [
            SocketEnd(),
            PlainHTTPOnTLSPort(observer: observer),
            tls,
            TLSHandshakeDeadline(timeout: handshakeTimeout, logger: logger, observer: observer),
            TLSEnds(logger: logger, observer: observer),
            FileRegionReader(),
        ]
        try channel.pipeline.syncOperations.addHandlers(handlers)
    }

    /// The same TLS in front of a TCP stream proxy's client: no HTTP answer to plain bytes (they
    /// fail the handshake), the rest as for HTTP.
    public var forStreams: any ConnectionPrelude { StreamTLS(server: self) }

    fileprivate func configureStream(_ channel: any Channel) throws {
        let handlers: [any ChannelHandler] = [
            SocketEnd(),
            NIOSSLServerHandler(context: context),
            TLSHandshakeDeadline(timeout: handshakeTimeout, logger: logger, observer: observer),
            TLSEnds(logger: logger, observer: observer),
        ]
        try channel.pipeline.syncOperations.addHandlers(handlers)
    }
}

private struct StreamTLS: ConnectionPrelude {
    let server: ServerTLS

    func configure(_ channel: any Channel) throws {
        try server.configureStream(channel)
    }
}
