/// Networks in CIDR form (`10.0.0.0/8`, `2001:db8::/32`, or one address), and whether an
/// address is in any of them: which peers may send a PROXY header (nginx's set_real_ip_from).
/// An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack socket reports) matches as
/// the IPv4 address it is.
public struct CIDRList: Sendable, Equatable {
    private struct Network: Sendable, Equatable {
        var bytes: [UInt8]
        var prefix: Int
    }

    private var networks: [Network] = []

    public init() {}

    /// Throws the first entry that is not an address or network, with why.
    public init(parsing entries: [String]) throws(ProxyHeaderError) {
        for entry in entries {
            let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, let bytes = Self.bytes(String(parts[0])) else {
                throw ProxyHeaderError("'\(entry)' is not an address or network (expected e.g. 10.0.0.0/8)")
            }
            var prefix = bytes.count * 8
            if parts.count == 2 {
                guard let value = Int(parts[1]), parts[1].allSatisfy(\.isNumber), (0...bytes.count * 8).contains(value) else {
                    throw ProxyHeaderError("'\(entry)': the prefix length must be 0...\(bytes.count * 8)")
                }
                prefix = value
            }
            networks.append(Network(bytes: bytes, prefix: prefix))
        }
    }

    public var isEmpty: Bool { networks.isEmpty }

    /// Whether the address literal `ip` is in one of the networks.
    public func contains(_ ip: String) -> Bool {
        guard let address = Self.bytes(ip) else { return false }
        return networks.contains { network in
            guard network.bytes.count == address.count else { return false }
            var bits = network.prefix
            for i in 0..<address.count where bits > 0 {
                let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if address[i] & mask != network.bytes[i] & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    /// IPv4 bytes, IPv6 bytes, or the IPv4 bytes inside an IPv4-mapped IPv6 address.
    static func bytes(_ text: String) -> [UInt8]? {
        if let v4 = IPAddressBytes.parseV4(text) { return v4 }
        guard let v6 = IPAddressBytes.parseV6(text) else { return nil }
        if v6[0..<10].allSatisfy({ $0 == 0 }) && v6[10] == 0xFF && v6[11] == 0xFF { return Array(v6[12..<16]) }
        return v6
    }
}
