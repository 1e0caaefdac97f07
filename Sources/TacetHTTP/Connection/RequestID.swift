/// `request_id: true`: every request carries an X-Request-ID, kept when a trusted proxy sent a
/// sane one (1 to 200 letters, digits, `-`, `_`, `.`), else made here (32 hex digits, as nginx's
/// `$request_id`); a client's own is replaced unless its peer is trusted. The route, the
/// upstream (the proxy passes the field on), the access log and `{request_id}` all see it.
public enum RequestID {
    public static func apply(to request: inout Request, peerTrusted: Bool) {
        if peerTrusted, let given = request.headers.first(name: "x-request-id"), isSane(given) {
            if request.headers["x-request-id"].count > 1 { request.headers.replaceOrAdd(name: "X-Request-ID", value: given) }
            return
        }
        request.headers.replaceOrAdd(name: "X-Request-ID", value: make())
    }

    static func isSane(_ id: String) -> Bool {
        (1...200).contains(id.utf8.count) && id.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
                || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }

    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for _ in 0..<2 {
            let word = generator.next() as UInt64
            for shift in stride(from: 60, through: 0, by: -4) { bytes.append(digits[Int(word >> UInt64(shift) & 0xF)]) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
