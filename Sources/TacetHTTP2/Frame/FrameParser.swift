import NIOCore

/// Frames read straight from the connection's read buffer (nginx's way: no per-frame buffers),
/// one at a time: `next(from:)` consumes a frame's bytes only once all of them are there, so a
/// split at any byte just waits. Bounded: a frame over our SETTINGS_MAX_FRAME_SIZE is refused
/// from its 9-byte header, before its payload is waited for. Frame-level rules only (RFC 9113
/// §4.1, §4.2, §6: lengths, stream 0, padding, setting ranges); state is the machine's.
struct FrameParser {
    /// What we advertised as SETTINGS_MAX_FRAME_SIZE (frames larger are a FRAME_SIZE_ERROR).
    var maxFrameSize = FrameLimits.defaultMaxFrameSize

    /// The next whole frame, nil if more bytes are needed. A stream error (a PRIORITY of the
    /// wrong length) consumes its frame; after a connection error the buffer is not read again.
    mutating func next(from buffer: inout ByteBuffer) throws(H2Error) -> Frame? {
        guard buffer.readableBytes >= FrameLimits.headerSize,
              let (high, low, rawType, flags, rawStream) = buffer.getMultipleIntegers(
                at: buffer.readerIndex, as: (UInt16, UInt8, UInt8, UInt8, UInt32).self)
        else { return nil }
        let length = Int(high) << 8 | Int(low)
        guard length <= maxFrameSize else {
            throw .connection(.frameSizeError, "frame of \(length) bytes over SETTINGS_MAX_FRAME_SIZE \(maxFrameSize)")
        }
        guard buffer.readableBytes >= FrameLimits.headerSize + length else { return nil }
        buffer.moveReaderIndex(forwardBy: FrameLimits.headerSize)
        // Sliced before anything can throw: the frame's bytes are gone from `buffer` either way.
        guard var payload = buffer.readSlice(length: length) else { return nil }
        let stream = rawStream & 0x7FFF_FFFF
        guard let type = FrameType(rawValue: rawType) else { return .unknown(type: rawType, stream: stream) }
        switch type {
        case .data:
            try Self.requireStream(stream, type)
            try Self.removePadding(&payload, flags: flags, fixed: 0)
            return .data(stream: stream, data: payload, endStream: flags & FrameFlags.endStream != 0, flowLength: length)
        case .headers:
            try Self.requireStream(stream, type)
            try Self.removePadding(&payload, flags: flags, fixed: flags & FrameFlags.priority != 0 ? 5 : 0)
            var priority: Priority?
            if flags & FrameFlags.priority != 0 { priority = Self.readPriority(&payload) }
            return .headers(stream: stream, fragment: payload, endStream: flags & FrameFlags.endStream != 0,
                            endHeaders: flags & FrameFlags.endHeaders != 0, priority: priority)
        case .priority:
            try Self.requireStream(stream, type)
            guard length == 5 else { throw .stream(stream, .frameSizeError, "PRIORITY of \(length) bytes") }
            guard let priority = Self.readPriority(&payload) else { return nil }
            return .priority(stream: stream, priority)
        case .rstStream:
            try Self.requireStream(stream, type)
            guard length == 4, let code = payload.readInteger(as: UInt32.self) else {
                throw .connection(.frameSizeError, "RST_STREAM of \(length) bytes")
            }
            return .rstStream(stream: stream, H2ErrorCode(rawValue: code))
        case .settings:
            try Self.requireConnection(stream, type)
            if flags & FrameFlags.ack != 0 {
                guard length == 0 else { throw .connection(.frameSizeError, "SETTINGS ACK with a payload") }
                return .settingsAck
            }
            guard length % 6 == 0 else { throw .connection(.frameSizeError, "SETTINGS of \(length) bytes") }
            return .settings(try Self.readSettings(&payload))
        case .pushPromise:
            return .pushPromise(stream: stream)
        case .ping:
            try Self.requireConnection(stream, type)
            guard length == 8, let opaque = payload.readInteger(as: UInt64.self) else {
                throw .connection(.frameSizeError, "PING of \(length) bytes")
            }
            return .ping(ack: flags & FrameFlags.ack != 0, opaque: opaque)
        case .goAway:
            try Self.requireConnection(stream, type)
            guard length >= 8, let (last, code) = payload.readMultipleIntegers(as: (UInt32, UInt32).self) else {
                throw .connection(.frameSizeError, "GOAWAY of \(length) bytes")
            }
            return .goAway(lastStream: last & 0x7FFF_FFFF, code: H2ErrorCode(rawValue: code), debug: payload)
        case .windowUpdate:
            guard length == 4, let raw = payload.readInteger(as: UInt32.self) else {
                throw .connection(.frameSizeError, "WINDOW_UPDATE of \(length) bytes")
            }
            return .windowUpdate(stream: stream, increment: Int(raw & 0x7FFF_FFFF))
        case .continuation:
            try Self.requireStream(stream, type)
            return .continuation(stream: stream, fragment: payload, endHeaders: flags & FrameFlags.endHeaders != 0)
        }
    }

    /// DATA, HEADERS, PRIORITY, RST_STREAM and CONTINUATION belong to a stream (§6).
    private static func requireStream(_ stream: UInt32, _ type: FrameType) throws(H2Error) {
        if stream == 0 { throw .connection(.protocolError, "\(type) on stream 0") }
    }

    /// SETTINGS, PING and GOAWAY belong to the connection (§6).
    private static func requireConnection(_ stream: UInt32, _ type: FrameType) throws(H2Error) {
        if stream != 0 { throw .connection(.protocolError, "\(type) on stream \(stream)") }
    }

    /// Strips the Pad Length byte and the padding; `fixed`: bytes the frame needs besides (§6.1, §6.2).
    private static func removePadding(_ payload: inout ByteBuffer, flags: UInt8, fixed: Int) throws(H2Error) {
        guard flags & FrameFlags.padded != 0 else {
            if payload.readableBytes < fixed { throw .connection(.frameSizeError, "frame too short for its fields") }
            return
        }
        guard let pad = payload.readInteger(as: UInt8.self) else { throw .connection(.frameSizeError, "padded frame without Pad Length") }
        guard Int(pad) + fixed <= payload.readableBytes else {
            throw .connection(.protocolError, "padding of \(pad) bytes is not shorter than the payload")
        }
        payload = payload.getSlice(at: payload.readerIndex, length: payload.readableBytes - Int(pad)) ?? payload
    }

    private static func readPriority(_ payload: inout ByteBuffer) -> Priority? {
        guard let (dependency, weight) = payload.readMultipleIntegers(as: (UInt32, UInt8).self) else { return nil }
        return Priority(dependency: dependency & 0x7FFF_FFFF, exclusive: dependency & 0x8000_0000 != 0, weight: weight)
    }

    /// Each parameter checked for its range (§6.5.2); unknown ones ignored.
    private static func readSettings(_ payload: inout ByteBuffer) throws(H2Error) -> SettingsFrame {
        var settings = SettingsFrame()
        while let (id, value) = payload.readMultipleIntegers(as: (UInt16, UInt32).self) {
            switch SettingsFrame.Parameter(rawValue: id) {
            case .headerTableSize: settings.headerTableSize = value
            case .enablePush:
                guard value <= 1 else { throw .connection(.protocolError, "SETTINGS_ENABLE_PUSH of \(value)") }
                settings.enablePush = value == 1
            case .maxConcurrentStreams: settings.maxConcurrentStreams = value
            case .initialWindowSize:
                guard Int(value) <= FrameLimits.maxWindow else {
                    throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE of \(value)")
                }
                settings.initialWindowSize = Int(value)
            case .maxFrameSize:
                guard (FrameLimits.defaultMaxFrameSize...FrameLimits.maxMaxFrameSize).contains(Int(value)) else {
                    throw .connection(.protocolError, "SETTINGS_MAX_FRAME_SIZE of \(value)")
                }
                settings.maxFrameSize = Int(value)
            case .maxHeaderListSize: settings.maxHeaderListSize = value
            case .enableConnectProtocol:
                guard value <= 1 else { throw .connection(.protocolError, "SETTINGS_ENABLE_CONNECT_PROTOCOL of \(value)") }
                settings.enableConnectProtocol = value == 1
            case nil: break
            }
        }
        return settings
    }
}

/// The client connection preface (RFC 9113 §3.4), checked as it arrives: a wrong byte is a
/// connection error at once, not after 24 bytes.
enum ConnectionPreface {
    static let bytes = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    enum Result: Equatable { case needMore, complete, invalid }

    /// Consumes the preface once it has all come; what has come so far is compared as it is.
    static func read(_ buffer: inout ByteBuffer) -> Result {
        let available = min(buffer.readableBytes, bytes.count)
        let view = buffer.readableBytesView.prefix(available)
        guard view.elementsEqual(bytes.prefix(available)) else { return .invalid }
        guard available == bytes.count else { return .needMore }
        buffer.moveReaderIndex(forwardBy: bytes.count)
        return .complete
    }
}
