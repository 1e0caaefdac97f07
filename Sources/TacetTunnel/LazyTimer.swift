import NIOCore

/// A deadline that moves often (each request, each read) backed by at most one scheduled task.
/// Moving it later costs nothing: the task, when it fires early, is re-armed for the deadline
/// then current. Only a deadline earlier than the pending task schedules anew. A value kept by
/// its owner on one event loop; the owner supplies the scheduling, and its task calls `fired`.
public struct LazyTimer {
    public private(set) var deadline: NIODeadline?
    private var task: Scheduled<Void>?
    private var fireAt: NIODeadline?

    public init() {}

    /// Sets the deadline (nil: none; a pending task then finds nothing to do). `schedule` is
    /// called only when a task must be set up, and returns it.
    public mutating func move(to deadline: NIODeadline?, schedule: (NIODeadline) -> Scheduled<Void>) {
        self.deadline = deadline
        guard let deadline else { return }
        if let fireAt, fireAt <= deadline { return }
        task?.cancel()
        fireAt = deadline
        task = schedule(deadline)
    }

    /// The task ran. True when the deadline has passed (it is cleared then); false when there
    /// was none, or it moved later (the task is re-armed through `schedule`).
    public mutating func fired(now: NIODeadline, schedule: (NIODeadline) -> Scheduled<Void>) -> Bool {
        task = nil
        fireAt = nil
        guard let deadline else { return false }
        if now < deadline {
            move(to: deadline, schedule: schedule)
            return false
        }
        self.deadline = nil
        return true
    }

    public mutating func cancel() {
        task?.cancel()
        task = nil
        fireAt = nil
        deadline = nil
    }
}
