import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOSSL
import SwiftASN1
import X509

/// tls-alpn-01 (RFC 8737): while a name's challenge is out, a handshake for that name that
/// offers only the `acme-tls/1` protocol is answered with a self-signed certificate for the name
/// carrying the critical acmeIdentifier extension (the SHA-256 of the key authorization). The
/// TLS listeners look here (`certificate(serverName:)`) before their own certificates.
public final class TLSALPNChallenges: ChallengeSolver {
    public static let protocolName = "acme-tls/1"
    /// id-pe-acmeIdentifier.
    static let acmeIdentifier: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]

    public var type: String { "tls-alpn-01" }
    private let certificates = NIOLockedValueBox<[String: (NIOSSLCertificate, NIOSSLPrivateKey)]>([:])

    public init() {}

    public func present(name: String, token: String, keyAuthorization: String) throws {
        let made = try Self.certificate(name: name, keyAuthorization: keyAuthorization)
        certificates.withLockedValue { $0[name.lowercased()] = made }
    }

    public func remove(name: String, token: String) {
        _ = certificates.withLockedValue { $0.removeValue(forKey: name.lowercased()) }
    }

    /// The challenge certificate for `serverName` (SNI), while its challenge is out.
    public func certificate(serverName: String) -> (NIOSSLCertificate, NIOSSLPrivateKey)? {
        certificates.withLockedValue { $0[serverName.lowercased()] }
    }

    public var isEmpty: Bool { certificates.withLockedValue { $0.isEmpty } }

    static func certificate(name: String, keyAuthorization: String) throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
        let key = P256.Signing.PrivateKey()
        let privateKey = Certificate.PrivateKey(key)
        let subject = try DistinguishedName { CommonName(name) }
        // extnValue: the DER of `Authorization ::= OCTET STRING (SIZE (32))`.
        let digest = Array(SHA256.hash(data: Array(keyAuthorization.utf8)))
        let value = ArraySlice([0x04, 0x20] + digest)
        let now = Date()
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames([.dnsName(name)])
            Certificate.Extension(oid: acmeIdentifier, critical: true, value: value)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: privateKey.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(86_400),
            issuer: subject, subject: subject, extensions: extensions, issuerPrivateKey: privateKey)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return (try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der),
                try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem))
    }
}
