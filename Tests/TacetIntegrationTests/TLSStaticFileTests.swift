import Foundation
import NIOCore
import NIOPosix
import TacetHTTP
import TacetStatic
import TacetTestSupport
import Testing

/// Static files over TLS: sendfile cannot pass through TLS, so a file above the in-head copy
/// limit (16 KiB) is read in chunks into buffers TLS encrypts. Whole, in order, pipelined.
@Suite("TLS: static files")
struct TLSStaticFileTests {
    static func root(files: [String: Int]) throws -> String {
        let root = NSTemporaryDirectory() + "tacet-tls-static-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, size) in files {
            let bytes = (0..<size).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            try Data(bytes).write(to: URL(fileURLWithPath: root + "/" + name))
        }
        return root
    }

    @Test("A 3 MiB file, a range of it and a small one, pipelined over TLS, then close_notify: all whole, in order")
    func largeFilesPipelined() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let root = try Self.root(files: ["big.bin": 3 << 20, "small.txt": 100])
        let live = try await TLSTests.server(try TLSTests.tls([certificate]), StaticResponder(root: root))
        try await whileRunning(live) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: TLSTests.group)
            try await client.send(get("/big.bin") + "GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=100000-299999\r\n\r\n" + get("/small.txt"))
            try await client.closeNotify()
            let (text, end) = await client.readToEnd(timeout: 30)
            #expect(end == .closeNotify)
            let bytes = Array(text.utf8)
            let heads = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
            #expect(heads == ["200", "206", "200"], "\(text.prefix(300))")
            let expected = (0..<(3 << 20)).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            let firstBody = try #require(text.range(of: "\r\n\r\n")).upperBound
            let start = text.utf8.distance(from: text.utf8.startIndex, to: firstBody)
            #expect(Array(bytes[start..<(start + expected.count)]) == expected)
            #expect(text.contains("Content-Range: bytes 100000-299999/3145728"))
            #expect(text.hasSuffix(String(decoding: expected.prefix(100), as: UTF8.self)))
            await client.close()
        }
    }
}

