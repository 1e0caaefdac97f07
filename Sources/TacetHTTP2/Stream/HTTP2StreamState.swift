/// One stream's protocol state as the connection machine keeps it (RFC 9113 §5.1; opened by
/// the client's HEADERS, which in the client role are ours): which ends are closed, both flow-control
/// windows, and the credit owed back for body the route has taken. The exchange (the request,
/// the route, the response) is `StreamMachine`'s; this is only what the frames need.
struct HTTP2StreamState {
    /// END_STREAM received: half-closed (remote).
    var remoteClosed: Bool
    /// END_STREAM sent: half-closed (local).
    var localClosed = false
    /// What we may still send on it (SETTINGS_INITIAL_WINDOW_SIZE changes move it; may go negative, §6.9.2).
    var sendWindow: Int
    /// What the client may still send on it before we reopen the window.
    var receiveWindow: Int
    /// Body taken by the route (and padding) not yet given back as WINDOW_UPDATE.
    var creditOwed = 0
    /// Client role: the final response head came (a header block after it is trailers).
    var headReceived = false

    init(remoteClosed: Bool, sendWindow: Int, receiveWindow: Int) {
        self.remoteClosed = remoteClosed
        self.sendWindow = sendWindow
        self.receiveWindow = receiveWindow
    }
}

/// How a stream that is no longer in the table ended, for the frames that may still come on it
/// (§5.1 "closed"): after our RST_STREAM they are ignored (the client may have sent them before
/// it saw it); after both END_STREAMs, DATA or HEADERS is STREAM_CLOSED.
enum ClosedStream: Equatable {
    case ended
    case resetByUs
    case resetByPeer
}

/// The last few streams that closed, bounded (a client cannot make it grow): older closed
/// streams are told apart from idle ones by their identifier alone.
struct RecentlyClosedStreams {
    private var ids: [UInt32]
    private var kinds: [ClosedStream]
    private var next = 0
    let capacity: Int

    init(capacity: Int = 64) {
        self.capacity = capacity
        ids = []
        kinds = []
    }

    mutating func add(_ id: UInt32, _ kind: ClosedStream) {
        if ids.count < capacity {
            ids.append(id)
            kinds.append(kind)
        } else {
            ids[next] = id
            kinds[next] = kind
            next = (next + 1) % capacity
        }
    }

    func kind(of id: UInt32) -> ClosedStream? {
        guard let index = ids.lastIndex(of: id) else { return nil }
        return kinds[index]
    }
}
