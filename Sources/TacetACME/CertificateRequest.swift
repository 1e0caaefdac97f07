import Crypto
import SwiftASN1
import X509

/// The CSR that finalizes an order (RFC 8555 §7.4): the names as subjectAltName DNS entries
/// (the first also as CN), signed by the certificate's new P-256 key.
enum CertificateRequest {
    static func der(names: [String], key: P256.Signing.PrivateKey) throws -> [UInt8] {
        let privateKey = Certificate.PrivateKey(key)
        let subject = try DistinguishedName { CommonName(names[0]) }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(names.map { .dnsName($0) })
        }
        let attributes = CertificateSigningRequest.Attributes([try .init(ExtensionRequest(extensions: extensions))])
        let csr = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: privateKey, attributes: attributes,
                                                signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        return serializer.serializedBytes
    }
}
