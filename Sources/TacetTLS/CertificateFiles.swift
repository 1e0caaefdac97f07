import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One certificate chain and its key, read from PEM files, with what `tacet check` and the logs
/// say of it: its names (subjectAltName DNS entries, else the subject's CN) and its expiry.
public struct LoadedCertificate: Sendable {
    public let chain: [NIOSSLCertificate]
    public let key: NIOSSLPrivateKey
    public let names: [String]
    /// Seconds since 1970 after which the leaf is no longer valid.
    public let notValidAfter: Int
    public let certPath: String

    /// Reads and checks the pair: both files readable, PEM, the key the certificate's own.
    /// Errors say which file and why.
    public init(certPath: String, keyPath: String) throws(TLSFileError) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certPath)
        } catch {
            throw TLSFileError(file: certPath, reason: Self.reason(certPath, error, what: "a PEM certificate"))
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw TLSFileError(file: keyPath, reason: Self.reason(keyPath, error, what: "a PEM private key"))
        }
        try self.init(chain: chain, key: key, certPath: certPath, keyPath: keyPath)
    }

    /// From PEM text in memory; `name` stands for the files in errors and reports.
    public init(certificatePEM: String, keyPEM: String, name: String) throws(TLSFileError) {
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
            let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
            try self.init(chain: chain, key: key, certPath: name, keyPath: name)
        } catch let error as TLSFileError {
            throw error
        } catch {
            throw TLSFileError(file: name, reason: "not PEM (\(error))")
        }
    }

    private init(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey, certPath: String, keyPath: String) throws(TLSFileError) {
        guard let leaf = chain.first else {
            throw TLSFileError(file: certPath, reason: "no certificate in the file")
        }
        // BoringSSL checks the pair when a context takes it.
        do {
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                         privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(file: keyPath, reason: "the key does not match the certificate \(certPath)")
        }
        self.chain = chain
        self.key = key
        self.names = Self.names(of: leaf)
        self.notValidAfter = Int(leaf.notValidAfter)
        self.certPath = certPath
    }

    /// The DNS names in subjectAltName; without any, the subject's common name.
    static func names(of certificate: NIOSSLCertificate) -> [String] {
        var names: [String] = []
        for entry in certificate._subjectAlternativeNames() where entry.nameType == .dnsName {
            names.append(String(decoding: entry.contents, as: UTF8.self))
        }
        if names.isEmpty, let cn = certificate.subjectName.first(where: { $0.type == .commonName }) {
            names.append(cn.value)
        }
        return names
    }

    private static func reason(_ path: String, _ error: any Error, what: String) -> String {
        if access(path, R_OK) != 0 { return String(cString: strerror(errno)) }
        return "not \(what) (\(error))"
    }
}

/// A certificate or key file that cannot be used, and why.
public struct TLSFileError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}
