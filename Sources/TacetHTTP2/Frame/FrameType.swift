/// The frame types of RFC 9113 §6 and the flags Tacet reads; any other type is an extension
/// frame, ignored (§4.1, §5.5) unless it falls inside a header block.
enum FrameType: UInt8, Sendable {
    case data = 0x0
    case headers = 0x1
    case priority = 0x2
    case rstStream = 0x3
    case settings = 0x4
    case pushPromise = 0x5
    case ping = 0x6
    case goAway = 0x7
    case windowUpdate = 0x8
    case continuation = 0x9
}

enum FrameFlags {
    static let endStream: UInt8 = 0x1
    static let ack: UInt8 = 0x1
    static let endHeaders: UInt8 = 0x4
    static let padded: UInt8 = 0x8
    static let priority: UInt8 = 0x20
}

/// Sizes fixed by the protocol.
enum FrameLimits {
    static let headerSize = 9
    /// SETTINGS_MAX_FRAME_SIZE's floor and default, and its ceiling (§6.5.2).
    static let defaultMaxFrameSize = 16_384
    static let maxMaxFrameSize = (1 << 24) - 1
    /// The largest window and window increment (§6.9.1).
    static let maxWindow = Int(Int32.max)
    static let defaultWindow = 65_535
}
