/// The request line of a request refused before it became a `Request` (its header block too
/// large, a malformed field): logged as nginx logs it, rather than `"-"`. Read leniently from
/// what arrived, and only when it looks like a request line (a token method, a target without
/// spaces or controls, `HTTP/d.d`); otherwise the log says `"-"` as before.
public struct RefusedRequestLine: Sendable, Equatable {
    public var method: String
    public var target: String
    public var version: String

    public init(method: String, target: String, version: String) {
        self.method = method
        self.target = target
        self.version = version
    }

    /// `bytes`: the request line, without its line ending.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> RefusedRequestLine? {
        var end = bytes.count
        if end > 0 && bytes[end - 1] == .cr { end -= 1 }
        guard let firstSpace = CharacterClass.firstIndex(of: .space, in: bytes, 0, end), firstSpace > 0,
              let secondSpace = CharacterClass.firstIndex(of: .space, in: bytes, firstSpace + 1, end),
              secondSpace > firstSpace + 1, end - secondSpace - 1 == 8 else { return nil }
        for i in 0..<firstSpace where !CharacterClass.isToken(bytes[i]) { return nil }
        for i in (firstSpace + 1)..<secondSpace where bytes[i] <= 0x20 || bytes[i] == 0x7F { return nil }
        let version = UnsafeRawBufferPointer(rebasing: bytes[(secondSpace + 1)..<end])
        guard version.starts(with: "HTTP/".utf8), version[5] >= 0x30, version[5] <= 0x39, version[6] == 0x2E,
              version[7] >= 0x30, version[7] <= 0x39 else { return nil }
        return RefusedRequestLine(method: String(decoding: bytes[0..<firstSpace], as: UTF8.self),
                                  target: String(decoding: bytes[(firstSpace + 1)..<secondSpace], as: UTF8.self),
                                  version: String(decoding: version, as: UTF8.self))
    }
}
