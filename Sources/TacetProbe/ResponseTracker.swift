/// Turns the bytes received so far into timeline events (each 1xx, status line, body complete or
/// short), each stamped when the recv that completed it returned.
struct ResponseTracker {
    private var headsReported = 0
    private var completeReported: Set<Int> = []
    private var shortReported: Set<Int> = []

    mutating func update(_ received: [UInt8], methods: [String], endedWithFIN: Bool, at ms: Double) -> [TimelineEvent] {
        let frames = HTTPResponseParser.scan(received, requestMethods: methods, endedWithFIN: endedWithFIN).frames
        var events: [TimelineEvent] = []
        for (index, frame) in frames.enumerated() {
            if index >= headsReported {
                let line = "\(frame.status) \(frame.reason)".trimmingSpaces()
                events.append(TimelineEvent(ms: ms, kind: frame.isInterim ? .interim : .statusLine, detail: line))
                headsReported = index + 1
            }
            if !frame.isInterim, frame.isComplete, !completeReported.contains(index) {
                completeReported.insert(index)
                events.append(TimelineEvent(ms: ms, kind: .bodyComplete, detail: "\(frame.status): \(frame.bodyLength) bytes"))
            }
        }
        return events
    }

    /// At the end of the stream: a final response whose body is still incomplete is short.
    mutating func streamEnded(_ received: [UInt8], methods: [String], endedWithFIN: Bool, at ms: Double) -> [TimelineEvent] {
        var events = update(received, methods: methods, endedWithFIN: endedWithFIN, at: ms)
        let frames = HTTPResponseParser.scan(received, requestMethods: methods, endedWithFIN: endedWithFIN).frames
        if let index = frames.indices.last, !frames[index].isInterim, !frames[index].isComplete, !shortReported.contains(index) {
            shortReported.insert(index)
            let frame = frames[index]
            let expected = frame.framing == .chunked ? "chunked, no terminator" : {
                if case .contentLength(let n) = frame.framing { return "of \(n)" }
                return "to EOF"
            }()
            events.append(TimelineEvent(ms: ms, kind: .bodyShort, detail: "\(frame.status): \(frame.bodyLength) bytes \(expected)"))
        }
        return events
    }
}
