import NIOCore
import NIOHTTP1

/// How a connection ends, as `ConnectionStateMachine.Action.end` says: the route cancelled if
/// asked, an error answered if no response started, the exchange logged, then a staged close
/// (our FIN, discard until the client's, linger timeouts), a close after flushing, or a close now.
extension HTTPConnectionHandler {
    func endConnection(cancelRequest: Bool, error: RequestError?, mode: ConnectionStateMachine.CloseMode,
                               reason: ConnectionEndReason) {
        if let current = exchange {
            if cancelRequest, let handler = current.handler {
                current.handler = nil
                handler.cancel(reason)
            }
            if let error, machine.responseStatus == nil {
                writeErrorResponse(error, suppressBody: current.suppressBody)
                finishExchange(end: reason.rawValue, status: Int(error.status.code))
            } else if machine.responseComplete {
                finishExchange(end: "complete")
            } else if let (status, end) = abandonLog {
                finishExchange(end: end, abandoned: true, status: status)
            } else {
                finishExchange(end: reason.rawValue, abandoned: true)
            }
            abandonLog = nil
        } else if let error {
            writeErrorResponse(error, suppressBody: parser.lastHeadWasHEAD && error != .truncated)
            log.refused(status: Int(error.status.code), now: now, end: reason.rawValue, line: parser.refusedLine)
        }
        guard let context else { return }
        releaseHeld(flush: mode != .immediately)
        switch mode {
        case .staged:
            context.flush()
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.close(mode: .output, promise: promise)
            promise.futureResult.assumeIsolated().whenFailure { [self] _ in self.context?.close(promise: nil) }
            updateTimer()
            if readHeld { readHeld = false; context.read() }
        case .afterFlush:
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer())), promise: promise)
            promise.futureResult.assumeIsolated().whenComplete { [self] _ in self.context?.close(promise: nil) }
        case .immediately:
            context.close(promise: nil)
        }
    }

    private func writeErrorResponse(_ error: RequestError, suppressBody: Bool) {
        guard let context else { return }
        releaseHeld(flush: false)
        // Written here, not through a route's writer: the request never reached one, and the
        // connection closes after it. The head and body are ErrorResponse's, as HTTP/2's are.
        let content = ErrorResponse.content(status: Int(error.status.code), reason: error.reason, pages: settings.errorPages)
        var body = content.body
        var buffer = allocator.buffer(capacity: 256)
        ResponseEncoder.writeHead(status: error.status, headers: ["Content-Type": content.contentType],
                                  framing: .contentLength(body.readableBytes), connection: .close, into: &buffer)
        if !suppressBody { buffer.writeBuffer(&body) }
        log.bytesOut += buffer.readableBytes
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
    }

    /// Logs the current exchange and forgets it. `abandoned`: its response never completed.
    func finishExchange(end: String, abandoned: Bool = false, status overrideStatus: Int? = nil) {
        guard let current = exchange else { return }
        exchange = nil
        if routePausedReads {
            routePausedReads = false
            resumeReadingIfHeld()
        }
        let status: Int
        if let overrideStatus {
            status = overrideStatus
        } else if abandoned && machine.responseStatus == nil {
            status = 499  // nginx's "client closed request": nothing was sent
        } else {
            status = machine.responseStatus ?? 0
        }
        log.exchangeFinished(current.request, client: current.client, route: current.routeLabel, status: status,
                             bodyBytes: current.bodyBytes, start: current.start, now: now, end: end,
                             grpcStatus: current.grpcStatus, coding: current.coding)
    }

    func logConnectionEnd() {
        log.connectionEnded(reason: machine.endReason ?? .clientRST, requests: machine.requestsServed, now: eventLoop.now)
    }
}
