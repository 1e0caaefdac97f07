import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import TacetHTTP

/// `ResponseWriter.writeFile`: a small file leaves with its head in one buffer; a larger one, or
/// a file that gives fewer bytes than promised, goes by sendfile (`FileRegion`).
@Suite("Connection handler: file bodies")
struct ConnectionHandlerFileTests {
    /// A file holding `bytes`, opened for reading.
    static func openFile(_ bytes: [UInt8]) throws -> CInt {
        let path = NSTemporaryDirectory() + "tacet-file-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        return fd
    }

    /// What the connection handed to NIO, write by write.
    static func writes(_ h: Harness) throws -> [IOData] {
        var all: [IOData] = []
        while let data = try h.channel.readOutbound(as: IOData.self) { all.append(data) }
        return all
    }

    static func respond(_ h: Harness, _ later: LaterResponder, fd: CInt, offset: Int = 0, count: Int) {
        let w = later.writers[later.writers.count - 1]
        w.writeHead(ResponseHead(status: .ok, body: .length(count)), flush: false)
        w.writeFile(descriptor: fd, offset: offset, count: count)
        w.end()
    }

    @Test("A small file: head and bytes in one write, twice on one connection")
    func smallFileOneWrite() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        for text in ["0123456789", "abcdefghijklmnopqrstuvwxyz"] {
            try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            Self.respond(h, later, fd: try Self.openFile(Array(text.utf8)), count: text.utf8.count)
            let writes = try Self.writes(h)
            #expect(writes.count == 1)
            guard case .byteBuffer(let buffer)? = writes.first else {
                Issue.record("expected one buffer, got \(writes)")
                continue
            }
            let r = try #require(parseResponses(String(buffer: buffer)).first)
            #expect(r.header("Content-Length") == "\(text.utf8.count)")
            #expect(r.body == text)
        }
        #expect(h.isOpen)
    }

    @Test("A range of a small file: those bytes only")
    func smallFileRange() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        Self.respond(h, later, fd: try Self.openFile(Array("abcdefghij".utf8)), offset: 3, count: 4)
        #expect(parseResponses(try h.output()).first?.body == "defg")
    }

    @Test("A file above the copy limit goes by sendfile")
    func largeFileSendfile() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let count = HTTPConnectionHandler.copyLimit + 1
        Self.respond(h, later, fd: try Self.openFile([UInt8](repeating: 7, count: count)), count: count)
        let writes = try Self.writes(h)
        #expect(writes.count == 2)
        guard case .fileRegion(let region)? = writes.last else {
            Issue.record("expected a file region last, got \(writes)")
            return
        }
        #expect(region.readableBytes == count)
    }

    @Test("A file shorter than promised is not copied as whole: sendfile gets it, and fails")
    func shrunkFileFallsBack() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        Self.respond(h, later, fd: try Self.openFile(Array("0123456789".utf8)), count: 20)
        let writes = try Self.writes(h)
        #expect(writes.count == 2)
        if case .byteBuffer(let head)? = writes.first {
            let text = String(buffer: head)
            #expect(text.hasSuffix("\r\n\r\n"), "the head alone, none of the file's bytes: \(text)")
        } else {
            Issue.record("expected the head first, got \(writes)")
        }
        guard case .fileRegion(let region)? = writes.last else {
            Issue.record("expected a file region last, got \(writes)")
            return
        }
        #expect(region.readableBytes == 20)
    }
}
