import Foundation

/// The origin's notebook: records by tag, shared by its connection threads and read by the probe
/// (in process) or through `/_tacet/seen` (a separate `tacet probe origin`). Waiters are woken
/// on every change, so the probe waits for an event, not for a guessed time.
public final class OriginRecorder: @unchecked Sendable {
    private let condition = NSCondition()
    private var requests: [String: [OriginRequestRecord]] = [:]
    private var tcp: [String: [OriginTCPRecord]] = [:]
    /// Tags kept, oldest first; past `limit` the oldest are forgotten (a long-running origin
    /// must not grow without bound).
    private var order: [String] = []
    private let limit: Int

    public init(limit: Int = 10_000) {
        self.limit = limit
    }

    public func observation(tag: String) -> OriginObservation {
        condition.lock()
        defer { condition.unlock() }
        return OriginObservation(requests: requests[tag] ?? [], tcp: tcp[tag] ?? [])
    }

    /// Waits until `done` holds for the tag's observation, or `timeout` seconds; returns the last.
    public func wait(tag: String, timeout: Double, until done: (OriginObservation) -> Bool) -> OriginObservation {
        let deadline = Date(timeIntervalSinceNow: max(0, timeout))
        condition.lock()
        defer { condition.unlock() }
        while true {
            let current = OriginObservation(requests: requests[tag] ?? [], tcp: tcp[tag] ?? [])
            if done(current) || !condition.wait(until: deadline) { return current }
        }
    }

    /// Records kept under one tag: a scenario sends at most three requests; more is someone
    /// else's traffic, not kept.
    static let perTag = 64

    /// A new request; returns its index under the tag, for later updates (nil: not kept).
    func addRequest(_ record: OriginRequestRecord, tag: String) -> Int? {
        change {
            remember(tag)
            guard requests[tag, default: []].count < Self.perTag else { return nil }
            requests[tag, default: []].append(record)
            return requests[tag, default: []].count - 1
        }
    }

    func updateRequest(tag: String, index: Int?, _ update: (inout OriginRequestRecord) -> Void) {
        change {
            guard let index, var list = requests[tag], list.indices.contains(index) else { return }
            update(&list[index])
            requests[tag] = list
        }
    }

    func addTCP(_ record: OriginTCPRecord, tag: String) -> Int? {
        change {
            remember(tag)
            guard tcp[tag, default: []].count < Self.perTag else { return nil }
            tcp[tag, default: []].append(record)
            return tcp[tag, default: []].count - 1
        }
    }

    func updateTCP(tag: String, index: Int?, _ update: (inout OriginTCPRecord) -> Void) {
        change {
            guard let index, var list = tcp[tag], list.indices.contains(index) else { return }
            update(&list[index])
            tcp[tag] = list
        }
    }

    private func remember(_ tag: String) {
        guard requests[tag] == nil, tcp[tag] == nil else { return }
        order.append(tag)
        if order.count > limit {
            let gone = order.removeFirst()
            requests[gone] = nil
            tcp[gone] = nil
        }
    }

    private func change<T>(_ body: () -> T) -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return body()
    }
}
