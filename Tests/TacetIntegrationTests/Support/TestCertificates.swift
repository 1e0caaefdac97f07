import Crypto
import _CryptoExtras
import Foundation
import NIOConcurrencyHelpers
import NIOSSL
import SwiftASN1
import TacetTLS
import X509

/// Certificates made in memory for the tests (no private key is ever committed): a self-signed
/// ECDSA P-256 or RSA certificate for the given names, as PEM files in a temporary directory
/// (what the configuration names) and as NIOSSL values (what a test client trusts).
struct TestCertificate: Sendable {
    let certPath: String
    let keyPath: String
    let certificate: NIOSSLCertificate

    enum KeyKind { case p256, rsa2048 }

    static func make(names: [String], kind: KeyKind = .p256, validFor days: Double = 365) throws -> TestCertificate {
        let now = Date()
        let subject = try DistinguishedName { CommonName(names.first ?? "tacet-test") }
        let sans = names.map { GeneralName.dnsName($0) }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(sans)
            BasicConstraints.notCertificateAuthority
        }
        let privateKey: Certificate.PrivateKey
        let keyPEM: String
        switch kind {
        case .p256:
            let key = P256.Signing.PrivateKey()
            privateKey = Certificate.PrivateKey(key)
            keyPEM = key.pemRepresentation
        case .rsa2048:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            privateKey = Certificate.PrivateKey(key)
            keyPEM = key.pemRepresentation
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: privateKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(days * 86_400),
            issuer: subject, subject: subject, extensions: extensions, issuerPrivateKey: privateKey)
        let certPEM = try certificate.serializeAsPEM().pemString
        let directory = NSTemporaryDirectory() + "tacet-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        removeAtExit(directory)
        let certPath = directory + "/cert.pem"
        let keyPath = directory + "/key.pem"
        try certPEM.write(toFile: certPath, atomically: true, encoding: .utf8)
        try keyPEM.write(toFile: keyPath, atomically: true, encoding: .utf8)
        return TestCertificate(certPath: certPath, keyPath: keyPath,
                               certificate: try NIOSSLCertificate(bytes: Array(certPEM.utf8), format: .pem))
    }

    var loaded: LoadedCertificate {
        get throws { try LoadedCertificate(certPath: certPath, keyPath: keyPath) }
    }
}

/// The keys the tests made are removed when the test process exits, not left in /tmp.
private let madeDirectories = NIOLockedValueBox<[String]>([])
private let cleanupRegistered: Void = {
    atexit {
        for directory in madeDirectories.withLockedValue({ $0 }) { try? FileManager.default.removeItem(atPath: directory) }
    }
}()

private func removeAtExit(_ directory: String) {
    _ = cleanupRegistered
    madeDirectories.withLockedValue { $0.append(directory) }
}
