import Foundation
import NIOCore
import NIOHTTP1
@testable import TacetCompression
import TacetHTTP
import TacetTestSupport
import Testing

/// The compression layer between a route and its writer, without sockets: what the writer is
/// asked to send for each kind of response.
@Suite("Compressing a route's response")
struct CompressingSinkTests {
    static func sink(accept: String? = "gzip", method: HTTPMethod = .GET, range: Bool = false, stripped: Set<String> = [],
                     settings: CompressionSettings = CompressionSettings(),
                     makeEncoder: @escaping (ContentCoding, EncoderParameters) -> (any ContentEncoder)? = ContentEncoders.make)
    -> (RecordingSink, CompressingSink, ResponseWriter) {
        let recorder = RecordingSink()
        let parsed = accept.flatMap { AcceptEncoding(fields: [$0]) }
        let sink = CompressingSink(base: ResponseWriter(sink: recorder, id: 1), coding: parsed?.choose(from: settings.available),
                                   accept: parsed, hasRange: range, isHEAD: method == .HEAD, settings: settings,
                                   strippedTags: stripped, makeEncoder: makeEncoder)
        return (recorder, sink, ResponseWriter(sink: sink, id: 1))
    }

    static let text = EncoderTests.sample(20_000)
    static func textHead(_ body: ResponseHead.Body, extra: [(String, String)] = []) -> ResponseHead {
        ResponseHead(status: .ok, headers: HTTPHeaders([("Content-Type", "text/html"), ("ETag", "\"v1\""), ("Accept-Ranges", "bytes")] + extra), body: body)
    }

    @Test("A whole body in one call goes out compressed with its length, one write, the variant's own ETag")
    func wholeBody() async throws {
        let (recorder, _, writer) = Self.sink()
        writer.respond(Self.textHead(.length(Self.text.count)), body: ByteBuffer(bytes: Self.text))
        let head = try #require(recorder.head)
        #expect(recorder.respondedWhole && recorder.heads.count == 1)
        #expect(head.headers.first(name: "content-encoding") == "gzip")
        #expect(head.headers.first(name: "vary") == "Accept-Encoding")
        #expect(head.headers.first(name: "etag") == "\"v1-gzip\"")
        #expect(!head.headers.contains(name: "accept-ranges"))
        #expect(head.body == .length(recorder.body.readableBytes))
        #expect(try await ContentDecoding.decode(recorder.bodyBytes, coding: "gzip") == Self.text)
        #expect(recorder.coding == CodingNote(coding: "gzip", uncompressedBytes: Self.text.count, compressedBytes: recorder.body.readableBytes))
    }

    @Test("A streamed body: the head waits for the first output or flush; each flush is decodable so far", arguments: [ContentCoding.gzip, .br, .zstd])
    func streamed(coding: ContentCoding) async throws {
        let (recorder, _, writer) = Self.sink(accept: coding.token)
        writer.writeHead(ResponseHead(status: .ok, headers: HTTPHeaders([("Content-Type", "text/event-stream")]), body: .stream), flush: false)
        #expect(recorder.heads.isEmpty)
        writer.flush()
        #expect(recorder.heads.count == 1, "a flush sends the head even before any body")
        #expect(recorder.head?.body == .stream)
        var sent: [UInt8] = []
        for event in 0..<4 {
            let bytes = Array("data: \(event)\n\n".utf8)
            sent += bytes
            writer.writeBody(ByteBuffer(bytes: bytes), flush: true)
            #expect(try await ContentDecoding.decodePrefix(recorder.bodyBytes, coding: coding.token) == sent, "event \(event)")
        }
        writer.end()
        #expect(recorder.ended)
        #expect(try await ContentDecoding.decode(recorder.bodyBytes, coding: coding.token) == sent)
    }

    @Test("Trailers after a compressed body are kept")
    func trailers() async throws {
        let (recorder, _, writer) = Self.sink()
        writer.writeHead(Self.textHead(.stream), flush: false)
        writer.writeBody(ByteBuffer(bytes: Self.text), flush: false)
        writer.end(trailers: HTTPHeaders([("grpc-status", "0")]))
        #expect(recorder.trailers?.first(name: "grpc-status") == "0")
        #expect(recorder.head?.body == .stream)
        #expect(try await ContentDecoding.decode(recorder.bodyBytes, coding: "gzip") == Self.text)
    }

    @Test("Untouched: an upstream's own gzip, no-transform, a type off the list, 204: byte for byte, no Vary")
    func untouched() {
        for extra in [[("Content-Encoding", "gzip")], [("Cache-Control", "public, no-transform")]] {
            let (recorder, _, writer) = Self.sink()
            let head = Self.textHead(.length(Self.text.count), extra: extra)
            writer.respond(head, body: ByteBuffer(bytes: Self.text))
            #expect(recorder.head?.headers == head.headers)
            #expect(recorder.bodyBytes == Self.text)
        }
        let (recorder, _, writer) = Self.sink()
        let fields = ByteBuffer(string: "Content-Type: image/png\r\n")
        writer.writeHead(ResponseHead(status: .ok, body: .length(4), encodedFields: fields), flush: false)
        writer.writeBody(ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47]), flush: true)
        writer.end()
        #expect(recorder.head?.encodedFields == fields, "a proxied head's bytes pass as they came")
        #expect(recorder.ended && recorder.body.readableBytes == 4)
    }

    @Test("Identity with Vary: small, a range, a client without Accept-Encoding; a 304 for the variant gets its ETag back")
    func identity() async throws {
        for (accept, range, body) in [("gzip", false, ResponseHead.Body.length(100)), ("gzip", true, .length(20_000)), (nil, false, .length(20_000))] {
            let (recorder, _, writer) = Self.sink(accept: accept, range: range)
            writer.respond(Self.textHead(body), body: nil)
            let head = try #require(recorder.head)
            #expect(head.headers.first(name: "vary") == "Accept-Encoding")
            #expect(!head.headers.contains(name: "content-encoding"))
            #expect(head.headers.first(name: "etag") == "\"v1\"")
        }
        let (recorder, _, writer) = Self.sink(stripped: ["\"v1\""])
        writer.respond(ResponseHead(status: .notModified, headers: HTTPHeaders([("ETag", "\"v1\"")]), body: .empty), body: nil)
        #expect(recorder.head?.headers.first(name: "etag") == "\"v1-gzip\"")
        #expect(recorder.head?.headers.first(name: "vary") == "Accept-Encoding")
    }

    @Test("HEAD gets the fields a GET would, and no body")
    func head() {
        let (recorder, _, writer) = Self.sink(method: .HEAD)
        writer.respond(Self.textHead(.length(Self.text.count)), body: nil)
        #expect(recorder.head?.headers.first(name: "content-encoding") == "gzip")
        #expect(recorder.head?.headers.first(name: "etag") == "\"v1-gzip\"")
        #expect(recorder.head?.body == .stream)
        #expect(recorder.body.readableBytes == 0 && recorder.ended)
    }

    @Test("Identity refused and nothing acceptable: 406 with Vary, the route's writes ignored")
    func notAcceptable() {
        let (recorder, _, writer) = Self.sink(accept: "identity;q=0, compress")
        writer.writeHead(Self.textHead(.length(Self.text.count)), flush: false)
        #expect(recorder.head?.status.code == 406)
        #expect(recorder.head?.headers.first(name: "vary") == "Accept-Encoding")
        #expect(!writer.isActive, "the route stops")
        writer.writeBody(ByteBuffer(bytes: Self.text), flush: true)
        #expect(recorder.heads.count == 1)
    }

    /// A file big enough for several reads, compressed while the client takes it: reading stops
    /// while the writer is not writable and resumes when it is.
    @Test("A file: read and compressed in pieces, paused by backpressure, resumed by writability")
    func fileWithBackpressure() async throws {
        let content = EncoderTests.sample(600_000)
        let path = NSTemporaryDirectory() + "tacet-compress-\(UUID().uuidString).js"
        try Data(content).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        let (recorder, sink, writer) = Self.sink(accept: "br")
        let handler = CompressionHandler(sink: sink, inner: nil)
        writer.writeHead(Self.textHead(.length(content.count)), flush: false)
        recorder.writable = false
        writer.writeFile(descriptor: fd, offset: 0, count: content.count)
        writer.end()
        #expect(!recorder.ended && sink.isBusy, "nothing read while not writable")
        recorder.writable = true
        handler.writabilityChanged(true)
        recorder.loop.run()
        #expect(recorder.ended)
        #expect(recorder.head?.headers.first(name: "content-encoding") == "br")
        #expect(try await ContentDecoding.decode(recorder.bodyBytes, coding: "br") == content)
    }

    @Test("A small file: one read, the head with the compressed length")
    func smallFile() async throws {
        let content = EncoderTests.sample(10_000)
        let path = NSTemporaryDirectory() + "tacet-compress-\(UUID().uuidString).json"
        try Data(content).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_RDONLY)
        let (recorder, sink, writer) = Self.sink(accept: "zstd")
        writer.writeHead(Self.textHead(.length(content.count)), flush: false)
        writer.writeFile(descriptor: fd, offset: 0, count: content.count)
        #expect(!sink.isBusy)
        writer.end()
        #expect(recorder.respondedWhole)
        #expect(recorder.head?.body == .length(recorder.body.readableBytes))
        #expect(try await ContentDecoding.decode(recorder.bodyBytes, coding: "zstd") == content)
    }

    @Test("A file on an untouched response still goes by sendfile")
    func fileUntouched() {
        let (recorder, _, writer) = Self.sink(accept: nil)
        writer.writeHead(ResponseHead(status: .ok, headers: HTTPHeaders([("Content-Type", "image/png")]), body: .length(10)), flush: false)
        writer.writeFile(descriptor: 99, offset: 0, count: 10)
        writer.end()
        #expect(recorder.files.count == 1 && recorder.files.first?.fd == 99)
    }

    final class FailingEncoder: ContentEncoder {
        let coding = ContentCoding.gzip
        var calls = 0
        let failAt: Int
        init(failAt: Int) { self.failAt = failAt }
        func encode(_ input: UnsafeRawBufferPointer, mode: EncodeMode, into output: inout ByteBuffer) throws(CompressionError) {
            calls += 1
            if calls >= failAt { throw CompressionError("injected") }
            output.writeBytes(input)
        }
    }

    @Test("A compressor failing mid-body cuts the response short (never a whole-looking body); before any output, a 500")
    func failure() {
        let (recorder, _, writer) = Self.sink(makeEncoder: { _, _ in FailingEncoder(failAt: 2) })
        writer.writeHead(Self.textHead(.stream), flush: false)
        writer.writeBody(ByteBuffer(string: "first part"), flush: true)
        writer.writeBody(ByteBuffer(string: "second part"), flush: true)
        #expect(recorder.abandoned == "compression_error")
        #expect(!recorder.ended)
        #expect(!writer.isActive)

        let (early, _, earlyWriter) = Self.sink(makeEncoder: { _, _ in FailingEncoder(failAt: 1) })
        earlyWriter.respond(Self.textHead(.length(Self.text.count)), body: ByteBuffer(bytes: Self.text))
        #expect(early.head?.status.code == 500)
        #expect(early.abandoned == nil)
    }
}
