/// What a stored entry's file begins with, before the body: a magic and a version (a file from
/// another version, or not from Tacet, is never served), the key it answers, its variant key,
/// the response's status and fields, the times that give its age, and the body's length (a file
/// shorter than it says was not written whole, and is not served). Read strictly and bounded:
/// the file may be damaged or planted.
public struct EntryHeader: Sendable, Equatable {
    public static let magic = Array("TACETCACHE\n".utf8)
    public static let version: UInt16 = 2
    public static let maxKey = 8 * 1024
    public static let maxFields = 256
    public static let maxFieldBytes = 64 * 1024

    public var key: String
    public var variant: String
    public var status: Int
    /// Epoch seconds: the request sent, the response received (RFC 9111 §4.2.3).
    public var requestTime: Int
    public var responseTime: Int
    public var fields: [(name: String, value: String)]
    public var bodyLength: Int
    /// Seconds of freshness, as decided when stored (the route's `default_ttl` may have given it).
    public var lifetime: Int
    /// The age it already had when received (§4.2.3's corrected_initial_age).
    public var initialAge: Int

    public init(key: String, variant: String, status: Int, requestTime: Int, responseTime: Int,
                fields: [(name: String, value: String)], bodyLength: Int, lifetime: Int = 0, initialAge: Int = 0) {
        self.key = key
        self.variant = variant
        self.status = status
        self.requestTime = requestTime
        self.responseTime = responseTime
        self.fields = fields
        self.bodyLength = bodyLength
        self.lifetime = lifetime
        self.initialAge = initialAge
    }

    /// How old it is at `now` (§4.2.3's current_age).
    public func age(now: Int) -> Int { initialAge + max(0, now - responseTime) }

    public static func == (a: EntryHeader, b: EntryHeader) -> Bool {
        a.key == b.key && a.variant == b.variant && a.status == b.status && a.requestTime == b.requestTime
            && a.responseTime == b.responseTime && a.bodyLength == b.bodyLength
            && a.lifetime == b.lifetime && a.initialAge == b.initialAge
            && a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    public func encoded() -> [UInt8] {
        var out = Self.magic
        func u16(_ v: Int) { out += [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        func u32(_ v: Int) { out += (0..<4).reversed().map { UInt8((v >> ($0 * 8)) & 0xFF) } }
        func u64(_ v: Int) { out += (0..<8).reversed().map { UInt8((UInt64(bitPattern: Int64(v)) >> UInt64($0 * 8)) & 0xFF) } }
        func text16(_ s: String) { u16(s.utf8.count); out += s.utf8 }
        u16(Int(Self.version))
        text16(key)
        text16(variant)
        u16(status)
        u64(requestTime)
        u64(responseTime)
        u16(fields.count)
        for field in fields {
            text16(field.name)
            u32(field.value.utf8.count)
            out += field.value.utf8
        }
        u64(bodyLength)
        u64(lifetime)
        u64(initialAge)
        return out
    }

    /// The header and where the body starts, or nil for anything not written by this version
    /// whole and within bounds.
    public static func decode(_ bytes: [UInt8]) -> (header: EntryHeader, bodyOffset: Int)? {
        var reader = ByteReader(bytes: bytes)
        guard reader.take(magic.count) == magic, reader.u16() == Int(version) else { return nil }
        guard let key = reader.text(reader.u16(), max: maxKey), let variant = reader.text(reader.u16(), max: maxKey),
              let status = reader.u16(), (100...599).contains(status),
              let requestTime = reader.u64(), let responseTime = reader.u64(),
              let count = reader.u16(), count <= maxFields else { return nil }
        var fields: [(name: String, value: String)] = []
        var total = 0
        for _ in 0..<count {
            guard let name = reader.text(reader.u16(), max: 256), !name.isEmpty,
                  name.utf8.allSatisfy(Scanner.isToken),
                  let valueLength = reader.u32(), let value = reader.text(valueLength, max: maxFieldBytes),
                  value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { return nil }
            total += name.utf8.count + value.utf8.count
            guard total <= maxFieldBytes else { return nil }
            fields.append((name, value))
        }
        guard let bodyLength = reader.u64(), let lifetime = reader.u64(), let initialAge = reader.u64() else { return nil }
        return (EntryHeader(key: key, variant: variant, status: status, requestTime: requestTime, responseTime: responseTime,
                            fields: fields, bodyLength: bodyLength, lifetime: lifetime, initialAge: initialAge), reader.offset)
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func u16() -> Int? { take(2).map { Int($0[0]) << 8 | Int($0[1]) } }
    mutating func u32() -> Int? { take(4).map { $0.reduce(0) { $0 << 8 | Int($1) } } }
    mutating func u64() -> Int? {
        guard let raw = take(8) else { return nil }
        let value = raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard value <= UInt64(Int64.max) else { return nil }
        return Int(value)
    }

    mutating func text(_ count: Int?, max: Int) -> String? {
        guard let count, count <= max, let raw = take(count) else { return nil }
        return String(validating: raw, as: UTF8.self)
    }
}
