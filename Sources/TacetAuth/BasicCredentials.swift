/// `Authorization: Basic <base64(user:password)>` (RFC 7617), read strictly: one field, the
/// scheme case-insensitive, standard base64 with its padding, a colon, a user without controls.
public struct BasicCredentials: Sendable, Equatable {
    public var user: String
    public var password: [UInt8]

    public init(user: String, password: [UInt8]) {
        self.user = user
        self.password = password
    }

    /// nil for anything but one well-formed Basic credential.
    public init?(authorization values: [String]) {
        guard values.count == 1, let value = values.first else { return nil }
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic", parts[1].utf8.count <= 4096,
              let decoded = Self.base64(Array(parts[1].utf8)),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let user = decoded[..<colon]
        guard !user.isEmpty, user.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }), !decoded.contains(0) else { return nil }
        guard let name = String(validating: user, as: UTF8.self) else { return nil }
        self.user = name
        self.password = Array(decoded[(colon + 1)...])
    }

    static func base64(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 4 == 0, !text.isEmpty else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): c - 71
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c + 4
            case UInt8(ascii: "+"): 62
            case UInt8(ascii: "/"): 63
            default: nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < text.count {
            let last = index + 4 == text.count
            let padding = last ? (text[index + 3] == UInt8(ascii: "=") ? (text[index + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            guard let a = value(text[index]), let b = value(text[index + 1]) else { return nil }
            let c = padding >= 2 ? 0 : value(text[index + 2])
            let d = padding >= 1 ? 0 : value(text[index + 3])
            guard let c, let d else { return nil }
            out.append(a << 2 | b >> 4)
            if padding < 2 { out.append((b & 0x0F) << 4 | c >> 2) }
            if padding < 1 { out.append((c & 0x03) << 6 | d) }
            index += 4
        }
        return out
    }
}
