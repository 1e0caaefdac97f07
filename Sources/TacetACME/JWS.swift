import Crypto
import Foundation

/// Flattened JWS JSON (RFC 7515 §7.2.2) as ACME requests are sent (RFC 8555 §6.2): ES256 by the
/// account key, `jwk` until the account has a URL and `kid` after, the nonce and the URL in the
/// protected header. An empty payload is POST-as-GET.
enum JWS {
    enum Signer {
        case jwk
        case kid(String)
    }

    static func sign(payload: String?, url: String, nonce: String, key: AccountKey, signer: Signer) throws -> [UInt8] {
        var header = "{\"alg\":\"ES256\","
        switch signer {
        case .jwk: header += "\"jwk\":\(key.jwk),"
        case .kid(let kid): header += "\"kid\":\(json(kid)),"
        }
        header += "\"nonce\":\(json(nonce)),\"url\":\(json(url))}"
        let protected = Base64URL.encode(header)
        let body = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try key.key.signature(for: Array("\(protected).\(body)".utf8))
        return envelope(protected: protected, payload: body, signature: Base64URL.encode(signature.rawRepresentation))
    }

    /// External Account Binding (RFC 8555 §7.3.4): the account's JWK, signed with the CA's MAC
    /// key (HS256), the object `newAccount`'s payload carries as `externalAccountBinding`.
    static func externalAccountBinding(keyID: String, macKey: [UInt8], url: String, key: AccountKey) -> String {
        let protected = Base64URL.encode("{\"alg\":\"HS256\",\"kid\":\(json(keyID)),\"url\":\(json(url))}")
        let payload = Base64URL.encode(key.jwk)
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(protected).\(payload)".utf8), using: SymmetricKey(data: macKey))
        return String(decoding: envelope(protected: protected, payload: payload, signature: Base64URL.encode(mac)), as: UTF8.self)
    }

    private static func envelope(protected: String, payload: String, signature: String) -> [UInt8] {
        Array("{\"protected\":\"\(protected)\",\"payload\":\"\(payload)\",\"signature\":\"\(signature)\"}".utf8)
    }

    /// A JSON string literal.
    static func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
