import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one connection reports: an access-log line and a metric per exchange, its bytes as they
/// go, and one line and one metric when it ends, with why. A value the connection handler owns,
/// so the handler only says what happened. HTTP/2 connections keep one too (their streams
/// report exchanges through it).
public struct ConnectionLog {
    public let accessLog: AccessLog?
    public let observer: any HTTPObserver
    public var logger: Logger
    public let connectedAt: NIODeadline
    public var remoteAddress = "-"
    public var bytesIn = 0
    public var bytesOut = 0
    /// `request_id: true`: the access line ends with the request's X-Request-ID.
    public var logsRequestID = false
    /// What `observer.bytesTransferred` has been told so far.
    private var reported = (in: 0, out: 0)
    private var ended = false

    public init(accessLog: AccessLog?, observer: any HTTPObserver, logger: Logger, connectedAt: NIODeadline) {
        self.accessLog = accessLog
        self.observer = observer
        self.logger = logger
        self.connectedAt = connectedAt
    }

    /// An exchange is over: answered (`end` "complete") or not (a `ConnectionEndReason` raw value,
    /// or a route's own reason). Its bytes so far are reported with it, so a long keep-alive
    /// connection counts as it goes.
    /// `client`: the address X-Forwarded-For gave, from a trusted proxy; else the peer's.
    /// `grpcStatus`: a gRPC answer's `grpc-status`, on the access line and in its own metric.
    public mutating func exchangeFinished(_ request: Request, client: String?, route: String, status: Int, bodyBytes: Int,
                                   start: NIODeadline, now: NIODeadline, end: String, grpcStatus: String? = nil,
                                   coding: CodingNote? = nil) {
        observer.requestFinished(route: route, status: status, durationNanoseconds: (now - start).nanoseconds, end: end)
        if let grpcStatus { observer.grpcFinished(route: route, grpcStatus: grpcStatus) }
        reportBytes()
        access(request, client: client, status: status, bytes: bodyBytes, start: start, now: now, end: end, grpcStatus: grpcStatus, coding: coding)
    }

    /// A request that never became an exchange (it could not be read) was answered `status`.
    /// A request refused before it became one: `line` names it when its request line was read.
    public func refused(status: Int, now: NIODeadline, end: String, line: RefusedRequestLine? = nil) {
        access(nil, line: line, status: status, bytes: 0, start: connectedAt, now: now, end: end)
    }

    /// The connection is gone: once.
    public mutating func connectionEnded(reason: ConnectionEndReason, requests: Int, now: NIODeadline) {
        guard !ended else { return }
        ended = true
        reportBytes()
        observer.connectionClosed(reason: reason)
        logger.info("connection closed", metadata: [
            "peer": "\(remoteAddress)",
            "reason": "\(reason.rawValue)",
            "requests": "\(requests)",
            "bytes_in": "\(bytesIn)", "bytes_out": "\(bytesOut)",
            "duration_ms": "\((now - connectedAt).nanoseconds / 1_000_000)",
        ])
    }

    private mutating func reportBytes() {
        let delta = (in: bytesIn - reported.in, out: bytesOut - reported.out)
        guard delta.in > 0 || delta.out > 0 else { return }
        reported = (bytesIn, bytesOut)
        observer.bytesTransferred(in: delta.in, out: delta.out)
    }

    private func access(_ request: Request?, line: RefusedRequestLine? = nil, client: String? = nil, status: Int, bytes: Int,
                        start: NIODeadline, now: NIODeadline, end: String, grpcStatus: String? = nil,
                        coding: CodingNote? = nil) {
        guard let accessLog else { return }
        accessLog.log(AccessLogEntry(
            remoteAddress: client ?? remoteAddress, epochSeconds: Int(time(nil)),
            method: request?.method.rawValue ?? line?.method ?? "-", target: request?.target ?? line?.target ?? "-",
            version: request.map { "HTTP/\($0.version.major).\($0.version.minor)" } ?? line?.version ?? "-",
            status: status, bodyBytes: bytes, durationMs: Double((now - start).nanoseconds) / 1_000_000,
            referer: request?.headers.first(name: "referer"), userAgent: request?.headers.first(name: "user-agent"),
            end: end, requestID: logsRequestID ? request?.headers.first(name: "x-request-id") : nil, grpcStatus: grpcStatus, coding: coding))
    }
}
