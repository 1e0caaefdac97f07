import NIOHTTP1

/// Turns a complete request head (request line, header lines, empty line) into a `Request`,
/// deciding its framing, keep-alive and Host. Pure: no state between calls.
enum HeadParser {
    static func parse(_ bytes: UnsafeRawBufferPointer, requestLineEnd: Int,
                      limits: RequestParser.Limits) -> Result<Request, RequestError> {
        // Request line: method SP request-target SP HTTP-version
        // Every line of a request head ends in CRLF. RFC 9112 §2.2 lets a recipient accept a bare
        // LF, but a front door that frames a request differently from the server behind it is how
        // request smuggling starts: the strict reading, 400.
        guard requestLineEnd > 0 && bytes[requestLineEnd - 1] == .cr else {
            return .failure(.malformed("bare LF line ending"))
        }
        let lineEnd = requestLineEnd - 1
        guard let sp1 = CharacterClass.firstIndex(of: .space, in: bytes, 0, lineEnd), sp1 > 0 else {
            return .failure(.malformed("malformed request line"))
        }
        guard let sp2 = CharacterClass.firstIndex(of: .space, in: bytes, sp1 + 1, lineEnd), sp2 > sp1 + 1 else {
            return .failure(.malformed("malformed request line"))
        }
        for i in 0..<sp1 where !CharacterClass.isToken(bytes[i]) {
            return .failure(.malformed("bad method"))
        }
        for i in (sp1 + 1)..<sp2 where !(0x21...0x7E).contains(bytes[i]) {
            return .failure(.malformed("bad request target"))
        }
        guard let version = parseVersion(bytes, sp2 + 1, lineEnd) else {
            return .failure(.malformed("bad HTTP version"))
        }
        guard version.major == 1 else { return .failure(.versionNotSupported) }
        let method = knownMethod(bytes, sp1) ?? HTTPMethod(rawValue: string(bytes, 0, sp1))
        var target = string(bytes, sp1 + 1, sp2)
        // Absolute-form (RFC 9112 §3.2.2): the target's authority replaces Host.
        var authority: String?
        if bytes[sp1 + 1] != UInt8(ascii: "/"), let split = splitAbsoluteForm(target) {
            authority = split.authority
            target = split.originForm
        }

        var headers = HTTPHeaders()
        var contentLength: Int?
        var transferEncoding: [Substring] = []
        var hasTransferEncoding = false
        var host: String?
        var hostCount = 0
        var connectionClose = false
        var connectionKeepAlive = false
        var expectContinue = false

        var lineStart = requestLineEnd + 1
        lines: while lineStart < bytes.count {
            guard let lf = CharacterClass.firstIndex(of: .lf, in: bytes, lineStart, bytes.count) else { break }
            let nameRange: Range<Int>
            let valueRange: Range<Int>
            switch FieldLine.read(bytes, from: lineStart, lf: lf, requireCRLF: true) {
            case .failure(let error): return .failure(.malformed(error.reason))
            case .success(.end): break lines
            case .success(.field(let n, let v)): (nameRange, valueRange) = (n, v)
            }
            let (colon, valueStart, valueEnd) = (nameRange.upperBound, valueRange.lowerBound, valueRange.upperBound)
            let name = string(bytes, lineStart, colon)
            let value = string(bytes, valueStart, valueEnd)

            switch colon - lineStart {
            case 4 where name.lowercasedASCIIEquals("host"):
                hostCount += 1
                guard let parsed = hostWithoutPort(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])) else {
                    return .failure(.malformed("invalid Host header"))
                }
                host = parsed
            case 6 where name.lowercasedASCIIEquals("expect"):
                if value.lowercasedASCIIEquals("100-continue") { expectContinue = true }
            case 10 where name.lowercasedASCIIEquals("connection"):
                for token in value.split(separator: ",") {
                    let t = token.trimmingOWS()
                    if t.lowercasedASCIIEquals("close") { connectionClose = true }
                    else if t.lowercasedASCIIEquals("keep-alive") { connectionKeepAlive = true }
                }
            case 14 where name.lowercasedASCIIEquals("content-length"):
                switch FieldNames.contentLength(UnsafeRawBufferPointer(rebasing: bytes[valueRange]), merging: contentLength) {
                case .value(let n): contentLength = n
                case .invalid: return .failure(.malformed("bad Content-Length"))
                case .conflicting: return .failure(.malformed("conflicting Content-Length"))
                }
            case 17 where name.lowercasedASCIIEquals("transfer-encoding"):
                hasTransferEncoding = true
                for coding in value.split(separator: ",") {
                    let c = coding.trimmingOWS()
                    if !c.isEmpty { transferEncoding.append(c) }
                }
            default:
                break
            }
            headers.add(name: name, value: value)
            lineStart = lf + 1
        }

        let isHTTP11 = version.minor >= 1
        if isHTTP11 && hostCount == 0 { return .failure(.malformed("missing Host header")) }
        if hostCount > 1 { return .failure(.malformed("more than one Host header")) }
        if let authority {
            let parsed = Array(authority.utf8).withUnsafeBytes { hostWithoutPort($0) }
            guard let parsed else { return .failure(.malformed("invalid authority in request target")) }
            host = parsed
        }

        let framing: BodyFraming
        if hasTransferEncoding {
            if contentLength != nil { return .failure(.malformed("both Content-Length and Transfer-Encoding")) }
            if !isHTTP11 { return .failure(.malformed("Transfer-Encoding in an HTTP/1.0 request")) }
            guard let last = transferEncoding.last, last.lowercasedASCIIEquals("chunked") else {
                return .failure(.malformed("chunked is not the final transfer coding"))
            }
            if transferEncoding.count > 1 {
                let others = transferEncoding.dropLast()
                if others.contains(where: { $0.lowercasedASCIIEquals("chunked") }) {
                    return .failure(.malformed("chunked applied twice"))
                }
                return .failure(.unsupportedTransferCoding)
            }
            framing = .chunked
        } else if let contentLength {
            if contentLength > limits.maxBodySize { return .failure(.bodyTooLarge) }
            framing = contentLength == 0 ? .none : .length(contentLength)
        } else {
            framing = .none
        }

        let keepAlive = isHTTP11 ? !connectionClose : (connectionKeepAlive && !connectionClose)
        return .success(Request(
            method: method, target: target, version: HTTPVersion(major: 1, minor: isHTTP11 ? 1 : 0),
            headers: headers, keepAlive: keepAlive, framing: framing,
            expectsContinue: expectContinue && isHTTP11 && framing != .none, host: host))
    }

    private static func parseVersion(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> (major: Int, minor: Int)? {
        guard end - start == 8,
              bytes[start] == UInt8(ascii: "H"), bytes[start + 1] == UInt8(ascii: "T"),
              bytes[start + 2] == UInt8(ascii: "T"), bytes[start + 3] == UInt8(ascii: "P"),
              bytes[start + 4] == UInt8(ascii: "/"), bytes[start + 6] == UInt8(ascii: "."),
              let major = digit(bytes[start + 5]), let minor = digit(bytes[start + 7]) else { return nil }
        return (major, minor)
    }

    /// The common methods read from their bytes: no String to build and match per request.
    private static func knownMethod(_ bytes: UnsafeRawBufferPointer, _ length: Int) -> HTTPMethod? {
        func equals(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == length
                && UnsafeRawBufferPointer(rebasing: bytes[0..<length]).elementsEqual(
                    UnsafeBufferPointer(start: name.utf8Start, count: length))
        }
        switch length {
        case 3: return equals("GET") ? .GET : equals("PUT") ? .PUT : nil
        case 4: return equals("POST") ? .POST : equals("HEAD") ? .HEAD : nil
        case 6: return equals("DELETE") ? .DELETE : nil
        case 7: return equals("OPTIONS") ? .OPTIONS : nil
        default: return nil
        }
    }

    private static func digit(_ b: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) ? Int(b - UInt8(ascii: "0")) : nil
    }

    /// `http://authority/path?query` → (authority, "/path?query"); nil for origin-form and `*`.
    private static func splitAbsoluteForm(_ target: String) -> (authority: String, originForm: String)? {
        let lower = target.prefix(8).lowercased()
        let schemeLength: Int
        if lower.hasPrefix("http://") { schemeLength = 7 } else if lower.hasPrefix("https://") { schemeLength = 8 } else { return nil }
        let rest = target.dropFirst(schemeLength)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let path = rest[end...]
        return (String(rest[..<end]), path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path)))
    }

    /// uri-host [ ":" port ] (RFC 9112 §3.2), lowercased, without the port and without a
    /// trailing dot (`example.com.` is `example.com`, as nginx reads it); nil when the value has
    /// characters no host can have (userinfo, spaces, path characters), a port that is not
    /// digits, or an IP literal that is not closed. Works on the bytes: this runs for every request.
    static func hostWithoutPort(_ value: UnsafeRawBufferPointer) -> String? {
        let count = value.count
        var end = count
        if value.first == UInt8(ascii: "[") {
            guard let close = value.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            end = close + 1
            for i in 1..<close {
                let b = value[i]
                guard CharacterClass.isHostCharacter(b), b != UInt8(ascii: "["), b != UInt8(ascii: "]") else { return nil }
            }
        } else {
            for i in 0..<count {
                let b = value[i]
                if b == .colon { end = i; break }
                guard CharacterClass.isHostCharacter(b), b != UInt8(ascii: "["), b != UInt8(ascii: "]") else { return nil }
            }
        }
        if end < count {
            guard value[end] == .colon else { return nil }
            for i in (end + 1)..<count where !(value[i] >= 0x30 && value[i] <= 0x39) { return nil }
        }
        if end > 1, value[end - 1] == UInt8(ascii: "."), value.first != UInt8(ascii: "[") { end -= 1 }
        let host = UnsafeRawBufferPointer(rebasing: value[0..<end])
        guard host.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else {
            return String(decoding: host, as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: end) { out in
            for i in 0..<end {
                let b = host[i]
                out[i] = (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
            }
            return end
        }
    }

    private static func string(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality against a lowercase literal, without allocating.
    public func lowercasedASCIIEquals(_ lower: String) -> Bool {
        // Lengths first: most comparisons (header names against a known one) end here.
        guard self.utf8.count == lower.utf8.count else { return false }
        var a = self.utf8.makeIterator()
        var b = lower.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return true
            case (let x?, let y?):
                let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
                if lx != y { return false }
            default: return false
            }
        }
    }

    /// Without optional whitespace (spaces and tabs) at either end (RFC 9110 §5.6.3).
    public func trimmingOWS() -> Substring {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return Substring(s)
    }
}
