import NIOCore
import NIOSSL

/// Where a TLS listener finds tls-alpn-01 challenge certificates (RFC 8737) while the ACME
/// client has challenges out.
public protocol ALPNChallengeCertificates: Sendable {
    /// The certificate and key for `serverName`, while its challenge is out.
    func certificate(serverName: String) -> (NIOSSLCertificate, NIOSSLPrivateKey)?
    var isEmpty: Bool { get }
}

/// Reads the ClientHello before TLS starts: a hello that offers only `acme-tls/1` for a name with
/// a challenge out is handed to a TLS handler presenting the challenge certificate (and the CA
/// closes after the handshake); any other, or bytes that are not one ClientHello record, to the
/// listener's own TLS handler, unchanged. Holds at most one record.
final class ALPNChallengeRouter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let acmeProtocol = "acme-tls/1"

    private let context: NIOSSLContext
    private let challenges: any ALPNChallengeCertificates
    private var held: ByteBuffer?
    private var decided = false

    init(context: NIOSSLContext, challenges: any ALPNChallengeCertificates) {
        self.context = context
        self.challenges = challenges
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else { return context.fireChannelRead(data) }
        var buffer = unwrapInboundIn(data)
        if var held { held.writeBuffer(&buffer); self.held = held } else { held = buffer }
        guard let bytes = held?.readableBytesView else { return }
        let chosen: NIOSSLContext
        if challenges.isEmpty {
            chosen = self.context
        } else {
            switch ClientHello.read(bytes) {
            case .incomplete where bytes.count < ClientHello.maxLength:
                return
            case .hello(let hello) where hello.protocols == [Self.acmeProtocol]:
                chosen = hello.serverName.flatMap(Self.challengeContext(challenges)) ?? self.context
            default:
                chosen = self.context
            }
        }
        decide(context, tls: chosen)
    }

    /// A context presenting the challenge certificate and speaking only `acme-tls/1`.
    private static func challengeContext(_ challenges: any ALPNChallengeCertificates) -> (String) -> NIOSSLContext? {
        { name in
            guard let (certificate, key) = challenges.certificate(serverName: name) else { return nil }
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
            configuration.applicationProtocols = [acmeProtocol]
            configuration.minimumTLSVersion = .tlsv12
            return try? NIOSSLContext(configuration: configuration)
        }
    }

    private func decide(_ context: ChannelHandlerContext, tls: NIOSSLContext) {
        decided = true
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        if let held {
            self.held = nil
            context.fireChannelRead(wrapInboundOut(held))
        }
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
