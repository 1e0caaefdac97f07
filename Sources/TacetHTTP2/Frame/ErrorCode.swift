/// An HTTP/2 error code (RFC 9113 §7), as RST_STREAM and GOAWAY carry it. Unknown codes from a
/// peer are kept as they came ("MUST NOT trigger any special behavior").
struct H2ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    let rawValue: UInt32
    init(rawValue: UInt32) { self.rawValue = rawValue }

    static let noError = H2ErrorCode(rawValue: 0x0)
    static let protocolError = H2ErrorCode(rawValue: 0x1)
    static let internalError = H2ErrorCode(rawValue: 0x2)
    static let flowControlError = H2ErrorCode(rawValue: 0x3)
    static let settingsTimeout = H2ErrorCode(rawValue: 0x4)
    static let streamClosed = H2ErrorCode(rawValue: 0x5)
    static let frameSizeError = H2ErrorCode(rawValue: 0x6)
    static let refusedStream = H2ErrorCode(rawValue: 0x7)
    static let cancel = H2ErrorCode(rawValue: 0x8)
    static let compressionError = H2ErrorCode(rawValue: 0x9)
    static let connectError = H2ErrorCode(rawValue: 0xa)
    static let enhanceYourCalm = H2ErrorCode(rawValue: 0xb)
    static let inadequateSecurity = H2ErrorCode(rawValue: 0xc)
    static let http11Required = H2ErrorCode(rawValue: 0xd)

    var description: String {
        let names = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
                     "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
                     "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]
        return rawValue < names.count ? names[Int(rawValue)] : "0x" + String(rawValue, radix: 16)
    }
}

/// What a received frame broke: the whole connection (GOAWAY with this code, then close) or
/// one stream (RST_STREAM on it, the connection goes on). RFC 9113 §5.4.
enum H2Error: Error, Equatable, Sendable {
    case connection(H2ErrorCode, String)
    case stream(UInt32, H2ErrorCode, String)
}
