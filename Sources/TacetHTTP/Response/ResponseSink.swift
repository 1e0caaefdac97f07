import Logging
import NIOCore
import NIOHTTP1

/// What a protocol other than HTTP/1.1 (an HTTP/2 stream) implements so that routes can answer
/// through it: the calls `ResponseWriter` makes, for the exchange `id`. HTTP/1.1 connections are
/// called directly (no existential on that path). Calls come on the sink's event loop.
public protocol ResponseSink: AnyObject {
    var eventLoop: any EventLoop { get }
    var allocator: ByteBufferAllocator { get }
    var isWritable: Bool { get }
    var remoteAddressString: String { get }
    var observer: any HTTPObserver { get }
    var logger: Logger { get }
    func isCurrent(_ id: UInt64) -> Bool
    func clientAddress(_ id: UInt64) -> String
    func writeInterim(_ id: UInt64, status: HTTPResponseStatus, headers: HTTPHeaders) -> Bool
    func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool)
    func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool)
    func flushResponse(_ id: UInt64)
    func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int)
    func endResponse(_ id: UInt64)
    /// The end with trailers (a gRPC status): a HEADERS frame after the body over HTTP/2.
    func endResponse(_ id: UInt64, trailers: HTTPHeaders)
    func setRoutePausedReads(_ id: UInt64, _ paused: Bool)
    func abandon(_ id: UInt64, reason: ConnectionEndReason, logStatus: Int?, logEnd: String?)
    /// As `abandon` for a response cut short because its upstream reset it: over HTTP/2 the
    /// client's stream is reset with CANCEL, as the upstream's was.
    func cancelStream(_ id: UInt64, logStatus: Int?, logEnd: String?)
    func acceptsInterim(_ id: UInt64) -> Bool
    func setRouteLabel(_ id: UInt64, _ label: String)
    func routeLabel(_ id: UInt64) -> String
    func setGRPCStatus(_ id: UInt64, _ status: String)
    /// The coding a compressing route applied, for the access line.
    func setContentCoding(_ id: UInt64, _ note: CodingNote)
    /// After a 101: the connection's handover to a tunnel (`ResponseWriter.handOver`). A sink
    /// that wraps another writer passes it on; a protocol without 101 (HTTP/2) answers nil.
    func handOver(_ id: UInt64, to glue: any ChannelHandler) -> TunnelEnd?
}

extension ResponseSink {
    public func handOver(_ id: UInt64, to glue: any ChannelHandler) -> TunnelEnd? { nil }
}
