/// The parts of a TLS ClientHello (RFC 8446 §4.1.2) a listener decides on before the handshake
/// starts: the name asked for (SNI, RFC 6066 §3) and the protocols offered (ALPN, RFC 7301).
/// NIOSSL's context callback gives the first only, and tls-alpn-01 (RFC 8737) needs both.
/// Strict and bounded: anything that does not parse is "not a ClientHello we decide on".
public struct ClientHello: Equatable, Sendable {
    public var serverName: String?
    public var protocols: [String]

    public init(serverName: String?, protocols: [String]) {
        self.serverName = serverName
        self.protocols = protocols
    }

    public enum Reading: Equatable, Sendable {
        /// More bytes needed (at most `maxLength` in all).
        case incomplete
        case hello(ClientHello)
        /// Not a ClientHello in one record: handled as usual, by TLS itself.
        case other
    }

    /// One record's worth: a ClientHello that spans records is left to TLS.
    public static let maxLength = 5 + 16_384

    public static func read(_ bytes: some Collection<UInt8>) -> Reading {
        let b = Array(bytes.prefix(maxLength))
        guard b.count >= 5 else { return b.first.map { $0 == 22 ? .incomplete : .other } ?? .incomplete }
        guard b[0] == 22, b[1] == 3 else { return .other }
        let recordLength = Int(b[3]) << 8 | Int(b[4])
        guard recordLength <= 16_384 else { return .other }
        guard b.count >= 5 + recordLength else { return .incomplete }
        var r = Reader(bytes: b, index: 5, end: 5 + recordLength)
        guard r.u8() == 1, let length = r.u24(), length <= recordLength - 4 else { return .other }
        r.end = r.index + length
        guard r.skip(2 + 32), let session = r.u8(), r.skip(session),
              let suites = r.u16(), r.skip(suites), let compression = r.u8(), r.skip(compression) else { return .other }
        var hello = ClientHello(serverName: nil, protocols: [])
        guard r.index < r.end else { return .hello(hello) }
        guard let extensionsLength = r.u16(), r.index + extensionsLength == r.end else { return .other }
        while r.index < r.end {
            guard let type = r.u16(), let size = r.u16(), r.index + size <= r.end else { return .other }
            var e = Reader(bytes: b, index: r.index, end: r.index + size)
            r.index += size
            switch type {
            case 0:  // server_name
                guard let list = e.u16(), e.index + list == e.end else { return .other }
                while e.index < e.end {
                    guard let kind = e.u8(), let nameLength = e.u16(), e.index + nameLength <= e.end else { return .other }
                    if kind == 0, hello.serverName == nil {
                        let name = b[e.index..<(e.index + nameLength)]
                        guard name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .other }
                        hello.serverName = String(decoding: name, as: UTF8.self).lowercased()
                    }
                    e.index += nameLength
                }
            case 16:  // application_layer_protocol_negotiation
                guard let list = e.u16(), e.index + list == e.end else { return .other }
                while e.index < e.end {
                    guard let nameLength = e.u8(), nameLength > 0, e.index + nameLength <= e.end else { return .other }
                    hello.protocols.append(String(decoding: b[e.index..<(e.index + nameLength)], as: UTF8.self))
                    e.index += nameLength
                }
            default:
                break
            }
        }
        return .hello(hello)
    }

    private struct Reader {
        let bytes: [UInt8]
        var index: Int
        var end: Int

        mutating func u8() -> Int? {
            guard index < end else { return nil }
            defer { index += 1 }
            return Int(bytes[index])
        }

        mutating func u16() -> Int? {
            guard index + 2 <= end else { return nil }
            defer { index += 2 }
            return Int(bytes[index]) << 8 | Int(bytes[index + 1])
        }

        mutating func u24() -> Int? {
            guard index + 3 <= end else { return nil }
            defer { index += 3 }
            return Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
        }

        mutating func skip(_ n: Int) -> Bool {
            guard n >= 0, index + n <= end else { return false }
            index += n
            return true
        }
    }
}
