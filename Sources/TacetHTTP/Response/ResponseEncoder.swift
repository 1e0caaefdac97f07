import NIOCore
import NIOHTTP1

/// Serialises response heads and chunk framing. The connection decides framing; this only writes it.
enum ResponseEncoder {
    enum Framing: Equatable {
        case none            // no body bytes follow, no length header (1xx, 204, 304)
        case contentLength(Int)
        case chunked
        case closeDelimited  // HTTP/1.0 with unknown length: the body ends with our FIN
    }

    enum ConnectionHeader {
        case none, keepAlive, close, upgrade
    }

    /// `encodedFields`, when given, replaces `headers`: the same fields already serialised (and
    /// without framing fields), as a fixed response keeps them.
    static func writeHead(status: HTTPResponseStatus, headers: HTTPHeaders, encodedFields: ByteBuffer? = nil,
                          framing: Framing, connection: ConnectionHeader, date: DateCache = .current,
                          originDate: String? = nil, into buffer: inout ByteBuffer) {
        writeStatusLine(status, into: &buffer)
        buffer.writeStaticString("Server: tacet\r\n")
        if let originDate {
            buffer.writeStaticString("Date: ")
            buffer.writeString(originDate)
            buffer.writeStaticString("\r\n")
        } else {
            date.write(into: &buffer)
        }
        if let encodedFields {
            buffer.writeImmutableBuffer(encodedFields)
        } else {
            writeFields(headers, keepingUpgrade: connection == .upgrade, into: &buffer)
        }
        switch framing {
        case .none, .closeDelimited:
            break
        case .contentLength(let n):
            buffer.writeStaticString("Content-Length: ")
            writeDecimal(n, into: &buffer)
            buffer.writeStaticString("\r\n")
        case .chunked:
            buffer.writeStaticString("Transfer-Encoding: chunked\r\n")
        }
        switch connection {
        case .none: break
        case .keepAlive: buffer.writeStaticString("Connection: keep-alive\r\n")
        case .close: buffer.writeStaticString("Connection: close\r\n")
        case .upgrade: buffer.writeStaticString("Connection: upgrade\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    /// `Name: value` lines for every field but the hop-by-hop ones: framing and connection
    /// management belong to the connection, never to a route (`Upgrade` only on a 101).
    static func writeFields(_ headers: HTTPHeaders, keepingUpgrade: Bool = false, into buffer: inout ByteBuffer) {
        for (name, value) in headers {
            if FieldNames.isHopByHop(name) && !(keepingUpgrade && name.lowercasedASCIIEquals("upgrade")) { continue }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
    }

    /// A 1xx response: status line and fields only; never Date or framing.
    static func writeInterim(status: HTTPResponseStatus, headers: HTTPHeaders, into buffer: inout ByteBuffer) {
        writeStatusLine(status, into: &buffer)
        for (name, value) in headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    static func writeChunkHeader(size: Int, into buffer: inout ByteBuffer) {
        buffer.writeString(String(size, radix: 16))
        buffer.writeStaticString("\r\n")
    }

    private static func writeStatusLine(_ status: HTTPResponseStatus, into buffer: inout ByteBuffer) {
        // The common ones as static strings: no table lookup, nothing retained.
        switch status {
        case .ok: buffer.writeStaticString("HTTP/1.1 200 OK\r\n")
        case .noContent: buffer.writeStaticString("HTTP/1.1 204 No Content\r\n")
        case .partialContent: buffer.writeStaticString("HTTP/1.1 206 Partial Content\r\n")
        case .notModified: buffer.writeStaticString("HTTP/1.1 304 Not Modified\r\n")
        case .notFound: buffer.writeStaticString("HTTP/1.1 404 Not Found\r\n")
        default: writeStatusLineSlowly(status, into: &buffer)
        }
    }

    private static func writeStatusLineSlowly(_ status: HTTPResponseStatus, into buffer: inout ByteBuffer) {
        if case .custom = status {
            buffer.writeStaticString("HTTP/1.1 ")
            writeDecimal(Int(status.code), into: &buffer)
            buffer.writeStaticString(" ")
            buffer.writeString(status.reasonPhrase)
            buffer.writeStaticString("\r\n")
        } else if let line = statusLines[Int(status.code)] {
            buffer.writeBytes(line)
        }
    }

    /// "HTTP/1.1 200 OK\r\n" for every standard status, built once.
    private static let statusLines: [[UInt8]?] = (0..<600).map { code in
        guard code >= 100 else { return nil }
        let status = HTTPResponseStatus(statusCode: code)
        return Array("HTTP/1.1 \(code) \(status.reasonPhrase)\r\n".utf8)
    }

    static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        guard value > 0 else {
            buffer.writeInteger(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var n = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while n > 0 && count < 24 {
                raw[23 - count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(24 - count)...]))
        }
    }
}
