/// Reads a PROXY protocol header, v1 (text) or v2 (binary), from the first bytes of a
/// connection. Pure: bytes in, a header and its length out, so it is tested (and fuzzed, whole
/// and split at random) without sockets. Strict: every field is checked, every length bounded,
/// and anything else is refused rather than guessed.
public enum ProxyHeaderParser {
    public enum Result: Sendable, Equatable {
        /// Not enough bytes yet to decide.
        case needMore
        /// A whole header, `length` bytes long; what follows is the client's.
        case header(ProxyHeader, length: Int)
        case invalid(ProxyHeaderError)
    }

    /// The v2 signature: `\r\n\r\n\0\r\nQUIT\n`.
    static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// v1's longest line, CRLF included (the spec's 107).
    static let maxV1 = 107
    /// The most a v2 header may carry after its 16 fixed bytes (addresses and TLVs): the spec
    /// allows 65535; real balancers send well under this.
    public static let maxV2Payload = 4096

    public static func parse(_ bytes: some Collection<UInt8>) -> Result {
        let bytes = Array(bytes.prefix(16 + maxV2Payload))
        guard let first = bytes.first else { return .needMore }
        if first == UInt8(ascii: "P") { return parseV1(bytes) }
        if first == 0x0D { return parseV2(bytes) }
        return .invalid(ProxyHeaderError("no PROXY protocol header"))
    }

    // MARK: v1

    private static func parseV1(_ bytes: [UInt8]) -> Result {
        let prefix = Array("PROXY ".utf8)
        let known = min(bytes.count, prefix.count)
        guard Array(bytes[0..<known]) == Array(prefix[0..<known]) else {
            return .invalid(ProxyHeaderError("no PROXY protocol header"))
        }
        guard let lf = bytes.prefix(maxV1).firstIndex(of: 0x0A) else {
            return bytes.count >= maxV1 ? .invalid(ProxyHeaderError("v1 header longer than 107 bytes")) : .needMore
        }
        guard lf > 0, bytes[lf - 1] == 0x0D else { return .invalid(ProxyHeaderError("v1 header without CRLF")) }
        let line = bytes[prefix.count..<(lf - 1)]
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .invalid(ProxyHeaderError("v1 header with control bytes")) }
        let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        switch fields.first {
        case "UNKNOWN":
            return .header(.local, length: lf + 1)
        case "TCP4", "TCP6":
            guard fields.count == 5 else { return .invalid(ProxyHeaderError("v1 header: expected 5 fields")) }
            let v6 = fields[0] == "TCP6"
            guard let source = ipLiteral(fields[1], v6: v6), let destination = ipLiteral(fields[2], v6: v6) else {
                return .invalid(ProxyHeaderError("v1 header: bad address"))
            }
            guard let sourcePort = port(fields[3]), let destinationPort = port(fields[4]) else {
                return .invalid(ProxyHeaderError("v1 header: bad port"))
            }
            return .header(.proxied(source: ProxiedAddress(ip: source, port: sourcePort),
                                    destination: ProxiedAddress(ip: destination, port: destinationPort)), length: lf + 1)
        default:
            return .invalid(ProxyHeaderError("v1 header: unknown protocol"))
        }
    }

    /// 0...65535 in decimal, no sign, no leading zero (the spec's form).
    private static func port(_ text: String) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              text == "0" || !text.hasPrefix("0"), let value = Int(text), value <= 65535 else { return nil }
        return value
    }

    /// The literal, normalised, if it is an address of the family asked for.
    private static func ipLiteral(_ text: String, v6: Bool) -> String? {
        if v6 {
            guard let bytes = IPAddressBytes.parseV6(text) else { return nil }
            return IPAddressBytes.formatV6(bytes)
        }
        guard let bytes = IPAddressBytes.parseV4(text) else { return nil }
        return IPAddressBytes.formatV4(bytes)
    }

    // MARK: v2

    private static func parseV2(_ bytes: [UInt8]) -> Result {
        let known = min(bytes.count, signature.count)
        guard Array(bytes[0..<known]) == Array(signature[0..<known]) else {
            return .invalid(ProxyHeaderError("no PROXY protocol header"))
        }
        guard bytes.count >= 16 else { return .needMore }
        let versionCommand = bytes[12]
        guard versionCommand >> 4 == 2 else { return .invalid(ProxyHeaderError("v2 header: version \(versionCommand >> 4)")) }
        let command = versionCommand & 0x0F
        guard command <= 1 else { return .invalid(ProxyHeaderError("v2 header: unknown command \(command)")) }
        let family = bytes[13] >> 4
        let transport = bytes[13] & 0x0F
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        guard length <= maxV2Payload else { return .invalid(ProxyHeaderError("v2 header: \(length) bytes, over \(maxV2Payload)")) }
        guard bytes.count >= 16 + length else { return .needMore }
        let payload = Array(bytes[16..<(16 + length)])
        let total = 16 + length
        if command == 0 {
            // LOCAL: the balancer speaking for itself (a health check); addresses are ignored.
            return .header(.local, length: total)
        }
        let addressLength: Int
        switch (family, transport) {
        case (1, 1): addressLength = 12
        case (2, 1): addressLength = 36
        case (0, _):
            return .header(.local, length: total)  // UNSPEC: no address to believe
        case (_, 2):
            return .invalid(ProxyHeaderError("v2 header: datagram transport"))
        case (3, _):
            return .invalid(ProxyHeaderError("v2 header: a UNIX socket address"))
        default:
            return .invalid(ProxyHeaderError("v2 header: unknown family \(family) or transport \(transport)"))
        }
        guard payload.count >= addressLength else { return .invalid(ProxyHeaderError("v2 header: addresses cut short")) }
        guard validTLVs(payload[addressLength...]) else { return .invalid(ProxyHeaderError("v2 header: malformed TLV")) }
        let header: ProxyHeader
        if family == 1 {
            header = .proxied(
                source: ProxiedAddress(ip: IPAddressBytes.formatV4(Array(payload[0..<4])), port: Int(payload[8]) << 8 | Int(payload[9])),
                destination: ProxiedAddress(ip: IPAddressBytes.formatV4(Array(payload[4..<8])), port: Int(payload[10]) << 8 | Int(payload[11])))
        } else {
            header = .proxied(
                source: ProxiedAddress(ip: IPAddressBytes.formatV6(Array(payload[0..<16])), port: Int(payload[32]) << 8 | Int(payload[33])),
                destination: ProxiedAddress(ip: IPAddressBytes.formatV6(Array(payload[16..<32])), port: Int(payload[34]) << 8 | Int(payload[35])))
        }
        return .header(header, length: total)
    }

    /// TLVs (type, 16-bit length, value) that exactly fill what follows the addresses. Their
    /// contents are not used; their framing must hold.
    private static func validTLVs(_ bytes: ArraySlice<UInt8>) -> Bool {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            guard bytes.endIndex - i >= 3 else { return false }
            let length = Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            i += 3 + length
        }
        return i == bytes.endIndex
    }
}
