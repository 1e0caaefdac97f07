/// A PROXY protocol header to send to an upstream (`send_proxy_protocol` on a stream): v1's text
/// line or v2's binary form, HAProxy's proxy-protocol.txt, for a TCP connection over IPv4 or
/// IPv6. Addresses of different families, or not IP literals (a Unix socket), give v1 `UNKNOWN`
/// and v2 `LOCAL`: the upstream then uses the connection's own addresses.
public enum ProxyHeaderEncoder {
    public enum Version: String, Sendable, Equatable, CaseIterable {
        case v1, v2
    }

    public static func encode(_ version: Version, source: ProxiedAddress?, destination: ProxiedAddress?) -> [UInt8] {
        let pair: (family: Int, src: [UInt8], dst: [UInt8])? = {
            guard let source, let destination else { return nil }
            if let s = IPAddressBytes.parseV4(source.ip), let d = IPAddressBytes.parseV4(destination.ip) { return (4, s, d) }
            if let s = IPAddressBytes.parseV6(source.ip), let d = IPAddressBytes.parseV6(destination.ip) { return (6, s, d) }
            return nil
        }()
        switch version {
        case .v1:
            guard let pair, let source, let destination else { return Array("PROXY UNKNOWN\r\n".utf8) }
            return Array("PROXY TCP\(pair.family) \(source.ip) \(destination.ip) \(source.port) \(destination.port)\r\n".utf8)
        case .v2:
            var bytes: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
            guard let pair, let source, let destination else {
                return bytes + [0x20, 0x00, 0x00, 0x00]  // v2, LOCAL, UNSPEC, no addresses
            }
            bytes.append(0x21)  // v2, PROXY
            bytes.append(pair.family == 4 ? 0x11 : 0x21)  // TCP over IPv4 / IPv6
            let length = pair.src.count * 2 + 4
            bytes += [UInt8(length >> 8), UInt8(length & 0xFF)]
            bytes += pair.src + pair.dst
            bytes += [UInt8(source.port >> 8 & 0xFF), UInt8(source.port & 0xFF), UInt8(destination.port >> 8 & 0xFF), UInt8(destination.port & 0xFF)]
            return bytes
        }
    }
}
