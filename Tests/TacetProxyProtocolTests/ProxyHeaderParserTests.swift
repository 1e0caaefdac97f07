import TacetTestSupport
import Testing
@testable import TacetProxyProtocol

/// The PROXY header parser on its own: v1 and v2 as HAProxy writes them, what is refused, and a
/// fuzz of mutated and split input (never a crash, never a different answer for a split).
@Suite("PROXY protocol: parser")
struct ProxyHeaderParserTests {
    typealias P = ProxyHeaderParser

    static func v2(command: UInt8 = 1, family: UInt8 = 0x11, payload: [UInt8]) -> [UInt8] {
        P.signature + [0x20 | command, family, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
    }

    static let v4Payload: [UInt8] = [203, 0, 113, 7, 10, 0, 0, 1, 0xD4, 0x31, 0x1F, 0x90]  // 54321 -> 8080

    @Test("v1 TCP4 and TCP6: the client's address and port, and the header's length")
    func v1() {
        let line = Array("PROXY TCP4 203.0.113.7 10.0.0.1 54321 8080\r\n".utf8)
        #expect(P.parse(line + Array("GET /".utf8)) == .header(.proxied(
            source: ProxiedAddress(ip: "203.0.113.7", port: 54321), destination: ProxiedAddress(ip: "10.0.0.1", port: 8080)),
            length: line.count))
        let six = Array("PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 443\r\n".utf8)
        #expect(P.parse(six) == .header(.proxied(
            source: ProxiedAddress(ip: "2001:db8::1", port: 1), destination: ProxiedAddress(ip: "::1", port: 443)), length: six.count))
        #expect(P.parse(Array("PROXY UNKNOWN\r\n".utf8)) == .header(.local, length: 15))
        #expect(P.parse(Array("PROXY UNKNOWN ffff::1 ::1 1 2\r\n".utf8)) == .header(.local, length: 31))
    }

    @Test("v1 refusals: every field checked", arguments: [
        "PROXY TCP4 203.0.113.7 10.0.0.1 54321 8080\n",        // no CR
        "PROXY TCP4 203.0.113.7 10.0.0.1 54321\r\n",           // a field missing
        "PROXY TCP4 203.0.113.7  10.0.0.1 54321 8080\r\n",     // two spaces
        "PROXY TCP4 203.0.113.256 10.0.0.1 1 2\r\n",           // octet out of range
        "PROXY TCP4 203.0.113.07 10.0.0.1 1 2\r\n",            // leading zero
        "PROXY TCP4 ::1 10.0.0.1 1 2\r\n",                     // family mismatch
        "PROXY TCP6 203.0.113.7 ::1 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",              // port out of range
        "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",                // leading zero
        "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
        "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
        "PROXI TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
        "GET / HTTP/1.1\r\n",
    ])
    func v1Refused(_ text: String) {
        guard case .invalid = P.parse(Array(text.utf8)) else {
            Issue.record("accepted: \(text.debugDescription)")
            return
        }
    }

    @Test("v1: a line over 107 bytes is refused before its end arrives")
    func v1TooLong() {
        let long = Array(("PROXY TCP6 " + String(repeating: "a", count: 100)).utf8)
        #expect(P.parse(long).isInvalid)
        #expect(P.parse(Array("PROXY TCP4 1.2.3.4".utf8)) == .needMore)
    }

    @Test("v2 PROXY over IPv4 and IPv6, with TLVs; LOCAL is a health check")
    func v2() {
        let header = Self.v2(payload: Self.v4Payload)
        #expect(P.parse(header + [0x47]) == .header(.proxied(
            source: ProxiedAddress(ip: "203.0.113.7", port: 54321), destination: ProxiedAddress(ip: "10.0.0.1", port: 8080)),
            length: header.count))
        let v6Payload: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1] + Array(repeating: 0, count: 15) + [1] + [0, 80, 1, 187]
        let tlv: [UInt8] = [0x02, 0x00, 0x03] + Array("a.b".utf8)  // PP2_TYPE_AUTHORITY
        let six = Self.v2(family: 0x21, payload: v6Payload + tlv)
        #expect(P.parse(six) == .header(.proxied(
            source: ProxiedAddress(ip: "2001:db8::1", port: 80), destination: ProxiedAddress(ip: "::1", port: 443)),
            length: six.count))
        #expect(P.parse(Self.v2(command: 0, family: 0x00, payload: [])) == .header(.local, length: 16))
        #expect(P.parse(Self.v2(command: 0, payload: Self.v4Payload)) == .header(.local, length: 28))
    }

    @Test("v2 refusals: version, command, family, datagrams, short addresses, bad TLVs, too long")
    func v2Refused() {
        var badVersion = Self.v2(payload: Self.v4Payload)
        badVersion[12] = 0x11
        #expect(P.parse(badVersion).isInvalid)
        #expect(P.parse(Self.v2(command: 2, payload: Self.v4Payload)).isInvalid)
        #expect(P.parse(Self.v2(family: 0x12, payload: Self.v4Payload)).isInvalid)  // UDP
        #expect(P.parse(Self.v2(family: 0x31, payload: Array(repeating: 0, count: 216))).isInvalid)  // UNIX
        #expect(P.parse(Self.v2(family: 0x41, payload: Self.v4Payload)).isInvalid)
        #expect(P.parse(Self.v2(payload: Array(Self.v4Payload.prefix(8)))).isInvalid)
        #expect(P.parse(Self.v2(payload: Self.v4Payload + [0x02, 0x00, 0x09, 0x61])).isInvalid)  // TLV longer than the rest
        #expect(P.parse(Self.v2(payload: Self.v4Payload + [0x02, 0x00])).isInvalid)  // TLV header cut
        var tooLong = P.signature + [0x21, 0x11, 0xFF, 0xFF]
        tooLong += Self.v4Payload
        #expect(P.parse(tooLong).isInvalid)
        var wrongSignature = Self.v2(payload: Self.v4Payload)
        wrongSignature[5] = 0x0C
        #expect(P.parse(wrongSignature).isInvalid)
    }

    @Test("Every prefix of a valid header needs more; never an answer before its end")
    func prefixes() {
        for header in [Array("PROXY TCP4 203.0.113.7 10.0.0.1 54321 8080\r\n".utf8), Self.v2(payload: Self.v4Payload)] {
            for n in 0..<header.count {
                #expect(P.parse(header.prefix(n)) == .needMore, "\(n)")
            }
        }
    }

    @Test("Fuzz: mutated headers (bytes replaced, inserted, deleted, cut) never crash, and a header that parses whole parses the same fed in pieces")
    func fuzz() {
        var random = SeededGenerator(seed: 0x5EED)
        let seeds: [[UInt8]] = [
            Array("PROXY TCP4 203.0.113.7 10.0.0.1 54321 8080\r\n".utf8),
            Array("PROXY TCP6 2001:db8::1 ::1 1 443\r\n".utf8),
            Array("PROXY UNKNOWN\r\n".utf8),
            Self.v2(payload: Self.v4Payload + [0x02, 0x00, 0x01, 0x61]),
            Self.v2(command: 0, family: 0, payload: []),
        ]
        for _ in 0..<4000 {
            let bytes = random.mutate(seeds[Int(random.next() % UInt64(seeds.count))])
            let whole = P.parse(bytes)
            // Fed as it would arrive, growing: the first answer that is not needMore must be the
            // answer the whole input gives (a header must not depend on how it was split).
            var answer = P.Result.needMore
            for n in 1...max(bytes.count, 1) where n <= bytes.count {
                answer = P.parse(bytes.prefix(n))
                if answer != .needMore { break }
            }
            if case .header(let header, let length) = answer {
                #expect(whole == .header(header, length: length), "\(bytes)")
                #expect(length <= bytes.count)
            }
            if case .header(_, let length) = whole { #expect(length <= bytes.count && length >= 15) }
        }
    }

    @Test("Trusted networks: IPv4 and IPv6 CIDRs, single addresses, IPv4-mapped peers; bad entries refused")
    func cidr() throws {
        let list = try CIDRList(parsing: ["10.0.0.0/8", "127.0.0.1", "2001:db8::/32", "192.168.1.128/25"])
        #expect(list.contains("10.200.3.4"))
        #expect(list.contains("127.0.0.1"))
        #expect(!list.contains("127.0.0.2"))
        #expect(list.contains("::ffff:10.1.2.3"))
        #expect(list.contains("2001:db8:ffff::1"))
        #expect(!list.contains("2001:db9::1"))
        #expect(list.contains("192.168.1.200"))
        #expect(!list.contains("192.168.1.100"))
        #expect(!list.contains("not-an-ip"))
        #expect(throws: ProxyHeaderError.self) { try CIDRList(parsing: ["10.0.0.0/33"]) }
        #expect(throws: ProxyHeaderError.self) { try CIDRList(parsing: ["10.0.0/8"]) }
        #expect(throws: ProxyHeaderError.self) { try CIDRList(parsing: ["::1/129"]) }
        #expect(try CIDRList(parsing: ["0.0.0.0/0"]).contains("8.8.8.8"))
    }

    @Test("IPv6 text: RFC 5952 output; forms refused")
    func ipv6() {
        #expect(IPAddressBytes.parseV6("2001:0db8:0000:0000:0000:ff00:0042:8329").map(IPAddressBytes.formatV6) == "2001:db8::ff00:42:8329")
        #expect(IPAddressBytes.parseV6("::").map(IPAddressBytes.formatV6) == "::")
        #expect(IPAddressBytes.parseV6("::ffff:1.2.3.4").map(IPAddressBytes.formatV6) == "::ffff:102:304")
        #expect(IPAddressBytes.parseV6("1:2:3:4:5:6:7:8:9") == nil)
        #expect(IPAddressBytes.parseV6("1::2::3") == nil)
        #expect(IPAddressBytes.parseV6("12345::1") == nil)
        #expect(IPAddressBytes.parseV6("fe80::1%eth0") == nil)
    }
}

extension ProxyHeaderParser.Result {
    var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }
}

