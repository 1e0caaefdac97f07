import NIOCore
import NIOHPACK

/// Each received frame against the connection's state (RFC 9113 §5.1, §6): nil when it needs
/// nothing from the handler (and reading goes on), else the step it means.
extension HTTP2ConnectionStateMachine {
    mutating func receive(_ frame: Frame, now: NIODeadline) -> Step? {
        if let open = block.openStream {
            // Inside a header block only its CONTINUATION frames may come (§6.10, §5.5).
            guard case .continuation(let stream, let fragment, let endHeaders) = frame else {
                return fail(.protocolError, "a frame other than CONTINUATION inside the header block of stream \(open)")
            }
            return assemble(now: now) { (b: inout HeaderBlockAssembler) throws(H2Error) in
                try b.continuation(stream: stream, fragment: fragment, endHeaders: endHeaders)
            }
        }
        switch frame {
        case .data(let stream, let data, let endStream, let flowLength):
            return receiveData(stream, data, endStream: endStream, flowLength: flowLength, now: now)
        case .headers(let stream, let fragment, let endStream, let endHeaders, let priority):
            emptyDataInARow = 0
            return assemble(now: now) { (b: inout HeaderBlockAssembler) throws(H2Error) in
                try b.headers(stream: stream, fragment: fragment, endStream: endStream, endHeaders: endHeaders, priority: priority)
            }
        case .priority(let stream, let priority):
            if controlFrames.record(now) { return fail(.enhanceYourCalm, "PRIORITY flood", flood: "control_frame_flood") }
            if priority.dependency == stream { return streamError(stream, .protocolError, "stream depends on itself", now: now) }
            return nil
        case .rstStream(let stream, let code):
            if resets.record(now) { return fail(.enhanceYourCalm, "RST_STREAM flood", flood: "rapid_reset") }
            if stream > highestStreamID { return fail(.protocolError, "RST_STREAM on idle stream \(stream)") }
            guard streams.removeValue(forKey: stream) != nil else { return nil }  // closed already: nothing to do
            recentlyClosed.add(stream, .resetByPeer)
            return .reset(stream: stream, code)
        case .settings(let settings):
            if controlFrames.record(now) { return fail(.enhanceYourCalm, "SETTINGS flood", flood: "control_frame_flood") }
            return apply(settings)
        case .settingsAck:
            return nil
        case .pushPromise:
            // Both roles announce SETTINGS_ENABLE_PUSH 0 (and a client never may push).
            return fail(.protocolError, "PUSH_PROMISE")
        case .ping(let ack, let opaque):
            if controlFrames.record(now) { return fail(.enhanceYourCalm, "PING flood", flood: "control_frame_flood") }
            return ack ? .pingAck(opaque) : .ping(opaque)
        case .goAway(let lastStream, let code, _):
            setPeerGoAway(lastStream)
            return .goAway(lastStream: lastStream, code)
        case .windowUpdate(let stream, let increment):
            return receiveWindowUpdate(stream, increment, now: now)
        case .continuation(let stream, _, _):
            return fail(.protocolError, "CONTINUATION without a header block on stream \(stream)")
        case .unknown:
            return nil
        }
    }

    private mutating func assemble(now: NIODeadline, _ step: (inout HeaderBlockAssembler) throws(H2Error) -> HeaderBlockAssembler.Step) -> Step? {
        do {
            switch try step(&block) {
            case .incomplete: return nil
            case .complete(let whole): return headerBlock(whole, now: now)
            }
        } catch {
            switch error {
            case .connection(let code, let reason):
                return fail(code, reason, flood: code == .enhanceYourCalm ? reason : nil)
            case .stream(_, let code, let reason):
                return fail(code, reason)
            }
        }
    }

    private mutating func receiveData(_ stream: UInt32, _ data: ByteBuffer, endStream: Bool, flowLength: Int, now: NIODeadline) -> Step? {
        // Every DATA frame counts against the connection's window, whatever becomes of it (§6.9).
        guard flowLength <= receiveWindow else { return fail(.flowControlError, "DATA past the connection's window") }
        receiveWindow -= flowLength
        connectionCreditOwed += flowLength
        if data.readableBytes == 0 && !endStream {
            emptyDataInARow += 1
            if emptyDataInARow > configuration.floods.sequentialEmptyData {
                return fail(.enhanceYourCalm, "empty DATA frames", flood: "empty_data_flood")
            }
        } else {
            emptyDataInARow = 0
        }
        guard var state = streams[stream] else {
            if stream > highestStreamID { return fail(.protocolError, "DATA on idle stream \(stream)") }
            // Sent before the client saw our RST_STREAM: ignored (§5.1).
            if recentlyClosed.kind(of: stream) == .resetByUs { return nil }
            return streamError(stream, .streamClosed, "DATA on closed stream \(stream)", now: now)
        }
        if state.remoteClosed { return streamError(stream, .streamClosed, "DATA after END_STREAM", now: now) }
        if configuration.role == .client && !state.headReceived {
            return streamError(stream, .protocolError, "DATA before the response head", now: now)
        }
        if flowLength > state.receiveWindow { return streamError(stream, .flowControlError, "DATA past the stream's window", now: now) }
        state.receiveWindow -= flowLength
        state.creditOwed += flowLength - data.readableBytes  // padding: given back with the body
        state.remoteClosed = endStream
        store(stream, state)
        return .data(stream: stream, data, endStream: endStream)
    }

    /// A whole header block: decoded first, whatever becomes of its stream, so that the HPACK
    /// table stays in step with the client's (§4.3).
    private mutating func headerBlock(_ whole: HeaderBlockAssembler.Block, now: NIODeadline) -> Step? {
        var fragment = whole.fragment
        let headers: HPACKHeaders
        do {
            headers = try decoder.decodeHeaders(from: &fragment)
        } catch {
            return fail(.compressionError, "header block: \(error)")
        }
        let stream = whole.stream
        if configuration.role == .client { return responseBlock(stream, headers, endStream: whole.endStream, now: now) }
        if var state = streams[stream] {
            if state.remoteClosed { return streamError(stream, .streamClosed, "HEADERS after END_STREAM", now: now) }
            guard whole.endStream else { return streamError(stream, .protocolError, "trailers without END_STREAM", now: now) }
            state.remoteClosed = true
            store(stream, state)
            return .trailers(stream: stream, headers)
        }
        if stream <= highestStreamID {
            switch recentlyClosed.kind(of: stream) {
            case .resetByUs?: return nil  // trailers in flight when we reset it
            case .ended?, .resetByPeer?: return fail(.streamClosed, "HEADERS on closed stream \(stream)")
            case nil: return fail(.protocolError, "stream \(stream) is not above the streams opened before")
            }
        }
        guard stream & 1 == 1 else { return fail(.protocolError, "even stream \(stream) opened by a client") }
        if let priority = whole.priority, priority.dependency == stream {
            return streamError(stream, .protocolError, "stream depends on itself", now: now)
        }
        if let last = goAwayLastStream, stream > last {
            highestStreamID = stream
            recentlyClosed.add(stream, .resetByUs)
            return .refused(stream: stream)
        }
        if streams.count >= configuration.maxConcurrentStreams {
            highestStreamID = stream
            recentlyClosed.add(stream, .resetByUs)
            return .refused(stream: stream)
        }
        noteStreamOpened(stream)
        streams[stream] = HTTP2StreamState(remoteClosed: whole.endStream, sendWindow: peer.initialWindowSize,
                                           receiveWindow: configuration.initialWindowSize)
        return .head(stream: stream, headers, endStream: whole.endStream)
    }

    /// Client role: a header block on a stream we opened is its response head (a 1xx, then the
    /// final one) and then its trailers; on any other stream it is an error (§5.1, §8.1).
    private mutating func responseBlock(_ stream: UInt32, _ headers: HPACKHeaders, endStream: Bool, now: NIODeadline) -> Step? {
        guard var state = streams[stream] else {
            if stream > highestStreamID || stream & 1 == 0 { return fail(.protocolError, "HEADERS on stream \(stream), which we did not open") }
            switch recentlyClosed.kind(of: stream) {
            case .resetByUs?: return nil  // the answer was in flight when we reset it
            default: return fail(.streamClosed, "HEADERS on closed stream \(stream)")
            }
        }
        if state.remoteClosed { return streamError(stream, .streamClosed, "HEADERS after END_STREAM", now: now) }
        if state.headReceived {
            guard endStream else { return streamError(stream, .protocolError, "trailers without END_STREAM", now: now) }
            state.remoteClosed = true
            store(stream, state)
            return .trailers(stream: stream, headers)
        }
        // A 1xx is interim: the final head is still to come (it is checked whole by the handler).
        let interim = headers.first(name: ":status")?.utf8.first == UInt8(ascii: "1")
        if interim && endStream { return streamError(stream, .protocolError, "END_STREAM on an interim response", now: now) }
        if !interim {
            state.headReceived = true
            state.remoteClosed = endStream
            store(stream, state)
        }
        return .head(stream: stream, headers, endStream: endStream)
    }

    private mutating func receiveWindowUpdate(_ stream: UInt32, _ increment: Int, now: NIODeadline) -> Step? {
        if stream == 0 {
            guard increment > 0 else { return fail(.protocolError, "WINDOW_UPDATE of 0 on the connection") }
            guard sendWindow + increment <= FrameLimits.maxWindow else {
                return fail(.flowControlError, "the connection's window past 2^31-1")
            }
            adjustSendWindow(by: increment)
            return .windowOpened(stream: 0)
        }
        guard var state = streams[stream] else {
            if stream > highestStreamID { return fail(.protocolError, "WINDOW_UPDATE on idle stream \(stream)") }
            return nil  // closed: may cross our END_STREAM or RST_STREAM
        }
        guard increment > 0 else { return streamError(stream, .protocolError, "WINDOW_UPDATE of 0", now: now) }
        guard state.sendWindow + increment <= FrameLimits.maxWindow else {
            return streamError(stream, .flowControlError, "the stream's window past 2^31-1", now: now)
        }
        state.sendWindow += increment
        streams[stream] = state
        return .windowOpened(stream: stream)
    }

    /// The peer's SETTINGS: a new initial window moves every stream's send window by the
    /// difference (§6.9.2), which may make one negative but not overflow.
    private mutating func apply(_ settings: SettingsFrame) -> Step {
        var next = peer
        var grew = false
        if let size = settings.initialWindowSize {
            let delta = size - peer.initialWindowSize
            if delta > 0, streams.values.contains(where: { $0.sendWindow + delta > FrameLimits.maxWindow }) {
                return fail(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE takes a stream's window past 2^31-1")
            }
            if delta != 0 {
                streams = streams.mapValues { state in
                    var state = state
                    state.sendWindow += delta
                    return state
                }
            }
            next.initialWindowSize = size
            grew = delta > 0
        }
        if let size = settings.maxFrameSize { next.maxFrameSize = size }
        if let size = settings.maxHeaderListSize { next.maxHeaderListSize = size }
        if let count = settings.maxConcurrentStreams { next.maxConcurrentStreams = count }
        setPeer(next)
        return .settings(windowGrew: grew)
    }

    /// Keeps a stream's state, or lets it go once both ends are closed.
    mutating func store(_ stream: UInt32, _ state: HTTP2StreamState) {
        if state.remoteClosed && state.localClosed {
            streams.removeValue(forKey: stream)
            recentlyClosed.add(stream, .ended)
        } else {
            streams[stream] = state
        }
    }
}
