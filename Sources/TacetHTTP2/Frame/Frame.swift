import NIOCore

/// One received frame, as the parser hands it on: payloads are slices of the read buffer (no
/// copy), padding already removed. Only frame-level rules are checked by then (length, stream 0,
/// padding, setting values); what depends on state is the connection machine's.
enum Frame: Equatable, Sendable {
    /// `flowLength`: the whole payload with its padding, what flow control counts (§6.9).
    case data(stream: UInt32, data: ByteBuffer, endStream: Bool, flowLength: Int)
    case headers(stream: UInt32, fragment: ByteBuffer, endStream: Bool, endHeaders: Bool, priority: Priority?)
    case priority(stream: UInt32, Priority)
    case rstStream(stream: UInt32, H2ErrorCode)
    case settings(SettingsFrame)
    case settingsAck
    case pushPromise(stream: UInt32)
    case ping(ack: Bool, opaque: UInt64)
    case goAway(lastStream: UInt32, code: H2ErrorCode, debug: ByteBuffer)
    case windowUpdate(stream: UInt32, increment: Int)
    case continuation(stream: UInt32, fragment: ByteBuffer, endHeaders: Bool)
    /// An extension frame (§5.5): ignored, except inside a header block.
    case unknown(type: UInt8, stream: UInt32)
}

/// A PRIORITY frame's or HEADERS's priority fields (§5.3.1 is deprecated, but a stream that
/// depends on itself is still a stream error).
struct Priority: Equatable, Sendable {
    var dependency: UInt32
    var exclusive: Bool
    var weight: UInt8
}

/// The parameters a SETTINGS frame carried, each already checked for its range (§6.5.2); the
/// last value of a parameter repeated in one frame wins, as processing them in order would.
struct SettingsFrame: Equatable, Sendable {
    var headerTableSize: UInt32?
    var enablePush: Bool?
    var maxConcurrentStreams: UInt32?
    var initialWindowSize: Int?
    var maxFrameSize: Int?
    var maxHeaderListSize: UInt32?
    var enableConnectProtocol: Bool?

    init(headerTableSize: UInt32? = nil, enablePush: Bool? = nil, maxConcurrentStreams: UInt32? = nil,
         initialWindowSize: Int? = nil, maxFrameSize: Int? = nil, maxHeaderListSize: UInt32? = nil,
         enableConnectProtocol: Bool? = nil) {
        self.headerTableSize = headerTableSize
        self.enablePush = enablePush
        self.maxConcurrentStreams = maxConcurrentStreams
        self.initialWindowSize = initialWindowSize
        self.maxFrameSize = maxFrameSize
        self.maxHeaderListSize = maxHeaderListSize
        self.enableConnectProtocol = enableConnectProtocol
    }

    enum Parameter: UInt16 {
        case headerTableSize = 0x1
        case enablePush = 0x2
        case maxConcurrentStreams = 0x3
        case initialWindowSize = 0x4
        case maxFrameSize = 0x5
        case maxHeaderListSize = 0x6
        case enableConnectProtocol = 0x8
    }
}
