import Crypto
import Foundation
import Testing
@testable import TacetACME

@Suite("ACME: account key, JWS, key authorizations")
struct JWSTests {
    static func object(_ bytes: [UInt8]) throws -> [String: String] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String])
    }

    @Test("ES256 over protected.payload, verifiable with the JWK's point; jwk before an account, kid after")
    func signature() throws {
        let key = AccountKey()
        let body = try JWS.sign(payload: "{\"a\":1}", url: "https://ca/new-order", nonce: "n1", key: key, signer: .jwk)
        let jws = try Self.object(body)
        let protected = try #require(jws["protected"].flatMap(Base64URL.decode))
        let header = try #require(try JSONSerialization.jsonObject(with: Data(protected)) as? [String: Any])
        #expect(header["alg"] as? String == "ES256" && header["nonce"] as? String == "n1" && header["url"] as? String == "https://ca/new-order")
        #expect(header["jwk"] != nil && header["kid"] == nil)
        let signatureBytes = try #require(jws["signature"].flatMap(Base64URL.decode))
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: signatureBytes)
        let protectedText = try #require(jws["protected"])
        let payloadText = try #require(jws["payload"])
        let signed = Array("\(protectedText).\(payloadText)".utf8)
        #expect(key.key.publicKey.isValidSignature(signature, for: signed))
        #expect(Base64URL.decode(payloadText) == Array("{\"a\":1}".utf8))

        let asGet = try Self.object(try JWS.sign(payload: nil, url: "u", nonce: "n", key: key, signer: .kid("https://ca/acct/1")))
        #expect(asGet["payload"] == "", "POST-as-GET signs an empty payload")
        let kidProtected = try #require(asGet["protected"].flatMap(Base64URL.decode))
        let kidHeader = try #require(try JSONSerialization.jsonObject(with: Data(kidProtected)) as? [String: Any])
        #expect(kidHeader["kid"] as? String == "https://ca/acct/1" && kidHeader["jwk"] == nil)
    }

    @Test("JWK members in RFC 7638 order, the thumbprint its SHA-256, key authorization token.thumbprint")
    func thumbprint() throws {
        let key = AccountKey()
        #expect(key.jwk.hasPrefix("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\""))
        #expect(!key.jwk.contains(" "))
        #expect(key.thumbprint == Base64URL.encode(SHA256.hash(data: Array(key.jwk.utf8))))
        #expect(key.thumbprint.count == 43 && !key.thumbprint.contains("="))
        #expect(key.keyAuthorization(token: "tok") == "tok.\(key.thumbprint)")
        let again = try AccountKey(pem: key.pem)
        #expect(again.thumbprint == key.thumbprint, "a stored key is the same account")
    }

    @Test("External Account Binding: HS256 over the account's JWK with the CA's MAC key")
    func externalAccountBinding() throws {
        let key = AccountKey()
        let mac = Array("0123456789abcdef0123456789abcdef".utf8)
        let eab = try Self.object(Array(JWS.externalAccountBinding(keyID: "kid-1", macKey: mac, url: "https://ca/new-acct", key: key).utf8))
        let protected = try #require(eab["protected"])
        let payload = try #require(eab["payload"])
        #expect(Base64URL.decode(payload) == Array(key.jwk.utf8))
        let expected = HMAC<SHA256>.authenticationCode(for: Array("\(protected).\(payload)".utf8), using: SymmetricKey(data: mac))
        #expect(eab["signature"] == Base64URL.encode(expected))
    }

    @Test("base64url: no padding, - and _, decoding refuses other alphabets")
    func base64url() {
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xfb, 0xff])
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(JWS.json("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"")
    }
}
