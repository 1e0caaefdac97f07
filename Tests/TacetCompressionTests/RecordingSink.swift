import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import TacetHTTP

/// What a route's writer was asked to do, for the compression layer's tests: the sink a
/// `CompressingSink` writes to, on an `EmbeddedEventLoop`.
final class RecordingSink: ResponseSink {
    let loop = EmbeddedEventLoop()
    var heads: [ResponseHead] = []
    var body = ByteBuffer()
    var bodyWrites: [(bytes: Int, flush: Bool)] = []
    var files: [(fd: CInt, offset: Int, count: Int)] = []
    var ended = false
    var trailers: HTTPHeaders?
    var abandoned: String?
    var flushes = 0
    var writable = true
    var coding: CodingNote?
    /// A whole response in one call (`respond`): head and body together.
    var respondedWhole = false

    var eventLoop: any EventLoop { loop }
    var allocator: ByteBufferAllocator { ByteBufferAllocator() }
    var isWritable: Bool { writable }
    var remoteAddressString: String { "127.0.0.1" }
    var observer: any HTTPObserver { NoObserver() }
    var logger: Logger { Logger(label: "test") }
    func isCurrent(_ id: UInt64) -> Bool { !ended && abandoned == nil }
    func clientAddress(_ id: UInt64) -> String { "127.0.0.1" }
    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool { true }
    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        heads.append(head)
        if var body { self.body.writeBuffer(&body) }
        if end {
            ended = true
            respondedWhole = true
        }
    }
    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) {
        var buffer = buffer
        bodyWrites.append((buffer.readableBytes, flush))
        body.writeBuffer(&buffer)
        if flush { flushes += 1 }
    }
    func flushResponse(_ id: UInt64) { flushes += 1 }
    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) { files.append((fd, offset, count)) }
    func endResponse(_ id: UInt64) { ended = true }
    func endResponse(_ id: UInt64, trailers: HTTPHeaders) {
        ended = true
        self.trailers = trailers
    }
    func setRoutePausedReads(_ id: UInt64, _ paused: Bool) {}
    func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?) { abandoned = logEnd ?? reason.rawValue }
    func cancelStream(_ id: UInt64, logStatus: Int?, logEnd: String?) { abandoned = logEnd ?? "cancel" }
    func acceptsInterim(_ id: UInt64) -> Bool { true }
    func setRouteLabel(_ id: UInt64, _ label: String) {}
    func routeLabel(_ id: UInt64) -> String { "test" }
    func setGRPCStatus(_ id: UInt64, _ status: String) {}
    func setContentCoding(_ id: UInt64, _ note: CodingNote) { coding = note }

    var bodyBytes: [UInt8] { Array(body.readableBytesView) }
    var head: ResponseHead? { heads.first }
}
