import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate made in memory for `tacet serve --https`: ECDSA P-256, self-signed, for
/// `localhost`, 127.0.0.1 and ::1, valid for 30 days. Its key never touches the disk; the
/// SHA-256 fingerprint printed at start lets a user check what the browser shows.
public struct SelfSignedCertificate: Sendable {
    public let certificatePEM: String
    public let keyPEM: String
    /// SHA-256 of the certificate's DER, as colon-separated hex pairs.
    public let fingerprint: String

    /// `names`: DNS names instead of localhost and the loopback addresses (an ACME-managed
    /// name's stand-in until the CA's certificate arrives).
    public init(days: Double = 30, names: [String]? = nil) throws {
        let key = P256.Signing.PrivateKey()
        let privateKey = Certificate.PrivateKey(key)
        let name = try DistinguishedName { CommonName(names?.first ?? "localhost") }
        let now = Date()
        let alternatives: [GeneralName] = names.map { $0.map { .dnsName($0) } } ?? [
            .dnsName("localhost"),
            .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
            .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
        ]
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(alternatives)
            BasicConstraints.notCertificateAuthority
            try ExtendedKeyUsage([.serverAuth])
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: privateKey.publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(days * 86_400),
            issuer: name, subject: name, extensions: extensions, issuerPrivateKey: privateKey)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let digest = SHA256.hash(data: serializer.serializedBytes)
        fingerprint = digest.map { String(format: "%02X", $0) }.joined(separator: ":")
        certificatePEM = try certificate.serializeAsPEM().pemString
        keyPEM = key.pemRepresentation
    }
}
