import Crypto
import Foundation

/// The ACME account's key: ECDSA P-256 (JWS `ES256`), its public half as a JWK, and the JWK
/// thumbprint (RFC 7638) that key authorizations end with.
public struct AccountKey: Sendable {
    public let key: P256.Signing.PrivateKey

    public init(_ key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) {
        self.key = key
    }

    public init(pem: String) throws {
        key = try P256.Signing.PrivateKey(pemRepresentation: pem)
    }

    public var pem: String { key.pemRepresentation }

    /// `{"crv":"P-256","kty":"EC","x":…,"y":…}`: members in lexicographic order and no spaces,
    /// which is also the thumbprint's canonical form.
    public var jwk: String {
        let point = Array(key.publicKey.x963Representation.dropFirst())  // 04 || x || y
        let x = Base64URL.encode(point.prefix(32))
        let y = Base64URL.encode(point.suffix(32))
        return "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(x)\",\"y\":\"\(y)\"}"
    }

    public var thumbprint: String { Base64URL.encode(SHA256.hash(data: Array(jwk.utf8))) }

    /// What an http-01 or tls-alpn-01 challenge proves: `token.thumbprint` (RFC 8555 §8.1).
    public func keyAuthorization(token: String) -> String { "\(token).\(thumbprint)" }
}
