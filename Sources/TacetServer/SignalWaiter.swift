@preconcurrency import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process signals (SIGINT, SIGTERM, SIGHUP, SIGUSR1) as an async sequence of numbers, without a
/// signal handler's restrictions. Handling starts in `init`: create it before announcing that the
/// server is ready, so a signal sent right after the announcement is never lost.
public final class SignalWaiter: Sendable {
    private struct State {
        var pending: [Int32] = []
        var waiter: CheckedContinuation<Int32, Never>?
    }

    private let state = NIOLockedValueBox(State())
    private let sources: NIOLockedValueBox<[any DispatchSourceSignal]>

    public init(signals: [Int32]) {
        sources = NIOLockedValueBox([])
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let state = self.state
            source.setEventHandler {
                let waiter: CheckedContinuation<Int32, Never>? = state.withLockedValue { s in
                    if let waiter = s.waiter {
                        s.waiter = nil
                        return waiter
                    }
                    s.pending.append(number)
                    return nil
                }
                waiter?.resume(returning: number)
            }
            source.resume()
            sources.withLockedValue { $0.append(source) }
        }
    }

    /// The next signal: one that already arrived, or the next to arrive.
    public func next() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let ready: Int32? = state.withLockedValue { s in
                if !s.pending.isEmpty { return s.pending.removeFirst() }
                s.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    deinit {
        for source in sources.withLockedValue({ $0 }) { source.cancel() }
    }
}
