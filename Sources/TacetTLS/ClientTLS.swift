import Logging
import NIOCore
import TacetTunnel
import NIOSSL
import TacetHTTP

/// TLS to an upstream server: verified by default (chain against the system's trust store or a
/// CA bundle, and the name), SNI, ALPN `http/1.1` (or `h2` for an HTTP/2 upstream). Made once per upstream; each new upstream
/// connection gets a client handler from it, and pooled ones keep theirs.
public final class ClientTLS: ConnectionPrelude {
    private let context: NIOSSLContext
    private let serverName: String?
    private let logger: Logger

    /// `serverName`: SNI and the name to verify; nil for an IP literal (then the address itself
    /// is what the certificate must carry). `caFile`: a PEM bundle instead of the system's store.
    public init(serverName: String?, caFile: String?, verify: Bool, alpn: [String] = ["http/1.1"],
                logger: Logger) throws(TLSFileError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = alpn
        configuration.certificateVerification = verify ? .fullVerification : .none
        if let caFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw TLSFileError(file: caFile, reason: "not a PEM certificate bundle (\(error))")
            }
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(file: caFile ?? "(system trust store)", reason: "cannot make a TLS context: \(error)")
        }
        self.serverName = serverName.flatMap { Self.isIPLiteral($0) ? nil : $0 }
        self.logger = logger
    }

    public func configure(_ channel: any Channel) throws {
        let handlers: [any ChannelHandler] = [
            SocketEnd(),
            try NIOSSLClientHandler(context: context, serverHostname: serverName),
            TLSEnds(logger: logger, upstream: true),
        ]
        try channel.pipeline.syncOperations.addHandlers(handlers)
    }

    static func isIPLiteral(_ host: String) -> Bool {
        host.contains(":") || host.allSatisfy { $0 == "." || ($0.isASCII && $0.isNumber) }
    }
}
