import NIOCore
import NIOHPACK

/// One HTTP/2 connection's protocol, as a value (RFC 9113), in either role: a client's
/// connection to Tacet (`.server`) or Tacet's to an upstream (`.client`, issue #22). It reads
/// frames straight from the bytes the handler gives it and says, one step at a time, what they
/// mean: a head (a request's, or a response's), body, a reset, a PING to answer, a stream or
/// connection error. It keeps the
/// stream states (§5.1), both directions' flow-control windows (§6.9), the HPACK decoder, the
/// header block being assembled, the peer's settings and the flood limits; it never touches a
/// channel, so every rule is tested without sockets. `HTTP2ServerConnection` carries out what
/// it returns (`HTTP2UpstreamConnection` in the client role) and asks it before sending
/// (`sendable`, `endSent`, `resetSent`); in the client role it also opens the streams (`openStream`).
struct HTTP2ConnectionStateMachine {
    enum Role: Sendable, Equatable {
        /// Streams are opened by the peer's HEADERS (odd identifiers); the preface is read first.
        case server
        /// Streams are opened by us (`openStream`); the peer's HEADERS answer them.
        case client
    }

    struct Configuration: Sendable {
        var role = Role.server
        /// What we advertise and enforce.
        var maxConcurrentStreams = 128
        var initialWindowSize = 256 * 1024
        var connectionWindowSize = 1 << 20
        var maxFrameSize = FrameLimits.defaultMaxFrameSize
        /// SETTINGS_MAX_HEADER_LIST_SIZE as advertised; the decoder allows twice it, so a list a
        /// little over is answered 431 by the request's own checks rather than cut off here.
        var maxHeaderListSize = 32 * 1024
        var floods = FloodLimits()
        init() {}
    }

    /// What the peer told us in its SETTINGS.
    struct PeerSettings: Equatable {
        var initialWindowSize = FrameLimits.defaultWindow
        var maxFrameSize = FrameLimits.defaultMaxFrameSize
        var maxHeaderListSize: UInt32?
        /// Only the client role heeds it (nil: no limit announced yet).
        var maxConcurrentStreams: UInt32?
    }

    enum Phase: Equatable {
        /// The 24 bytes of the client preface (§3.4).
        case preface
        /// The preface came; the first frame must be SETTINGS.
        case firstSettings
        case open
        /// A connection error was found: nothing more is read.
        case failed
    }

    /// One step of reading.
    enum Step: Equatable {
        /// Everything readable was read (what is left is part of a frame).
        case needMore
        /// Peer settings applied; an ACK is due. `windowGrew`: queued DATA may go.
        case settings(windowGrew: Bool)
        /// A PING to answer with this payload.
        case ping(UInt64)
        /// The answer to a PING of ours.
        case pingAck(UInt64)
        /// A new stream's request head; in the client role, a response head (a 1xx among them,
        /// which more HEADERS follow).
        case head(stream: UInt32, HPACKHeaders, endStream: Bool)
        /// A new stream refused before any work (over SETTINGS_MAX_CONCURRENT_STREAMS, or after our GOAWAY).
        case refused(stream: UInt32)
        /// Trailers, which end the request (END_STREAM is required with them, §8.1).
        case trailers(stream: UInt32, HPACKHeaders)
        case data(stream: UInt32, ByteBuffer, endStream: Bool)
        /// The client reset the stream.
        case reset(stream: UInt32, H2ErrorCode)
        /// A send window grew (WINDOW_UPDATE): queued DATA may go.
        case windowOpened(stream: UInt32)
        /// Reset this stream with this code, the connection goes on.
        case streamError(stream: UInt32, H2ErrorCode, String)
        /// GOAWAY with `lastStream` and this code, then close. `flood`: the limit broken, for the metric.
        case connectionError(H2ErrorCode, String, lastStream: UInt32, flood: String?)
        /// The client's GOAWAY: it opens no more streams.
        case goAway(lastStream: UInt32, H2ErrorCode)
    }

    let configuration: Configuration
    private(set) var phase: Phase
    var parser: FrameParser
    var decoder: HPACKDecoder
    var block: HeaderBlockAssembler
    /// Open and half-closed streams.
    var streams: [UInt32: HTTP2StreamState] = [:]

    /// No stream open: the table's storage goes, so an idle connection does not keep it.
    mutating func releaseIdleStorage() {
        if streams.isEmpty { streams = [:] }
    }
    var recentlyClosed = RecentlyClosedStreams()
    /// The highest stream the client opened (what a GOAWAY names as processed, §6.8).
    private(set) var lastStreamID: UInt32 = 0
    /// The highest stream identifier the client used, opened or refused: anything above is idle.
    var highestStreamID: UInt32 = 0
    /// After our final GOAWAY, streams above this are refused.
    private(set) var goAwayLastStream: UInt32?
    /// The peer's GOAWAY: in the client role no stream is opened after it.
    private(set) var peerGoAwayLastStream: UInt32?
    /// The next stream we open (client role).
    private(set) var nextStreamID: UInt32 = 1
    private(set) var peer = PeerSettings()
    /// What we may send on the connection, and what the client may still send us.
    private(set) var sendWindow = FrameLimits.defaultWindow
    var receiveWindow: Int
    /// DATA received on the connection not yet given back as WINDOW_UPDATE.
    var connectionCreditOwed = 0
    var resets: RateWindow
    var controlFrames: RateWindow
    var streamErrors: RateWindow
    var emptyDataInARow = 0

    init(configuration: Configuration = Configuration(), allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.configuration = configuration
        phase = configuration.role == .server ? .preface : .firstSettings
        parser = FrameParser(maxFrameSize: configuration.maxFrameSize)
        decoder = HPACKDecoder(allocator: allocator, maxDynamicTableSize: HPACKDecoder.maxDynamicTableSize,
                               maxHeaderListSize: configuration.maxHeaderListSize * 2)
        block = HeaderBlockAssembler(maxBytes: configuration.maxHeaderListSize * 2, maxContinuations: configuration.floods.continuations)
        receiveWindow = configuration.connectionWindowSize
        resets = RateWindow(configuration.floods.resets)
        controlFrames = RateWindow(configuration.floods.controlFrames)
        streamErrors = RateWindow(configuration.floods.streamErrors)
    }

    /// Our SETTINGS, sent first (§3.4; after the client preface in the client role), and the
    /// connection window opened past the default 64 KiB.
    func writeOpening(into out: inout ByteBuffer) {
        if configuration.role == .client {
            out.writeBytes(ConnectionPreface.bytes)
            FrameEncoder.settings(&out, [
                (.enablePush, 0),
                (.initialWindowSize, UInt32(configuration.initialWindowSize)),
                (.maxHeaderListSize, UInt32(configuration.maxHeaderListSize)),
            ])
        } else {
            FrameEncoder.settings(&out, [
                (.maxConcurrentStreams, UInt32(configuration.maxConcurrentStreams)),
                (.initialWindowSize, UInt32(configuration.initialWindowSize)),
                (.maxHeaderListSize, UInt32(configuration.maxHeaderListSize)),
                (.enablePush, 0),
            ])
        }
        if configuration.connectionWindowSize > FrameLimits.defaultWindow {
            FrameEncoder.windowUpdate(&out, stream: 0, increment: configuration.connectionWindowSize - FrameLimits.defaultWindow)
        }
    }

    func isOpen(_ stream: UInt32) -> Bool { streams[stream] != nil }

    /// Client role: whether another stream may be opened now (the peer's SETTINGS came, its
    /// SETTINGS_MAX_CONCURRENT_STREAMS is not reached, no GOAWAY, identifiers left).
    var mayOpenStream: Bool {
        guard phase == .open, peerGoAwayLastStream == nil, nextStreamID < 0x7FFF_FFFF else { return false }
        return streams.count < Int(peer.maxConcurrentStreams ?? Self.unannouncedStreamLimit)
    }

    /// A server that announces no limit may still enforce one (NIOHTTP2's is 100, unannounced,
    /// and its gRPC servers close the connection past it): at most the 100 RFC 9113 §6.5.2
    /// recommends as a minimum; past it, another connection.
    static let unannouncedStreamLimit: UInt32 = 100

    /// Client role: a new stream for a request, its HEADERS ours to send next; nil when
    /// `mayOpenStream` is false.
    mutating func openStream() -> UInt32? {
        guard mayOpenStream else { return nil }
        let stream = nextStreamID
        nextStreamID += 2
        noteStreamOpened(stream)
        streams[stream] = HTTP2StreamState(remoteClosed: false, sendWindow: peer.initialWindowSize,
                                           receiveWindow: configuration.initialWindowSize)
        return stream
    }

    mutating func setPeerGoAway(_ lastStream: UInt32) {
        peerGoAwayLastStream = min(lastStream, peerGoAwayLastStream ?? lastStream)
    }

    /// The next step from `buffer`'s bytes; call until `.needMore`. `now`: the batch's clock, for rates.
    mutating func read(_ buffer: inout ByteBuffer, now: NIODeadline) -> Step {
        switch phase {
        case .failed:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMore
        case .preface:
            switch ConnectionPreface.read(&buffer) {
            case .needMore: return .needMore
            case .invalid: return fail(.protocolError, "invalid connection preface")
            case .complete: phase = .firstSettings
            }
        case .firstSettings, .open:
            break
        }
        while true {
            let frame: Frame
            do {
                guard let next = try parser.next(from: &buffer) else { return .needMore }
                frame = next
            } catch {
                switch error {
                case .connection(let code, let reason): return fail(code, reason)
                case .stream(let stream, let code, let reason): return streamError(stream, code, reason, now: now)
                }
            }
            if phase == .firstSettings {
                guard case .settings = frame else { return fail(.protocolError, "the first frame was not SETTINGS") }
                phase = .open
            }
            if let step = receive(frame, now: now) { return step }
        }
    }

    /// A connection error: nothing more is read; the GOAWAY names the last stream processed.
    mutating func fail(_ code: H2ErrorCode, _ reason: String, flood: String? = nil) -> Step {
        phase = .failed
        return .connectionError(code, reason, lastStream: lastStreamID, flood: flood)
    }

    /// A stream error, counted: past the rate, the connection goes.
    mutating func streamError(_ stream: UInt32, _ code: H2ErrorCode, _ reason: String, now: NIODeadline) -> Step {
        if streamErrors.record(now) { return fail(.enhanceYourCalm, "too many stream errors", flood: "stream_errors") }
        if streams.removeValue(forKey: stream) != nil || stream > highestStreamID {
            // A stream refused in its HEADERS is closed too, not idle.
            recentlyClosed.add(stream, .resetByUs)
            if configuration.role == .server && stream > highestStreamID && stream & 1 == 1 { highestStreamID = stream }
        }
        return .streamError(stream: stream, code, reason)
    }

    mutating func noteStreamOpened(_ stream: UInt32) {
        if stream > lastStreamID { lastStreamID = stream }
        if stream > highestStreamID { highestStreamID = stream }
    }

    mutating func setPeer(_ settings: PeerSettings) { peer = settings }
    mutating func adjustSendWindow(by delta: Int) { sendWindow += delta }
    mutating func setGoAwayLastStream(_ stream: UInt32) { goAwayLastStream = stream }
}
