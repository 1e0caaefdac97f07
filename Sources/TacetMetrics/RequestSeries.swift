import CoreMetrics
import NIOConcurrencyHelpers

/// The handles one finished request touches: its (route, status) counter and its route's
/// duration histogram, found with one lookup.
struct RequestSeries: Sendable {
    let requests: CoreMetrics.Counter
    let duration: CoreMetrics.Timer
}

/// Handles per route, created on first use and kept: labels are formatted once per series,
/// never per request. Routes and statuses are few (a route label is a config entry, or "none"
/// for no match), so the tables stay small.
final class RouteSeriesTable: Sendable {
    private struct Key: Hashable {
        var route: String
        var status: Int
    }

    /// Per route: the things that do not depend on the status.
    final class Route: Sendable {
        let duration: CoreMetrics.Timer
        let probesSent: CoreMetrics.Counter
        let probesReset: CoreMetrics.Counter

        init(label: String, handles: MetricHandles) {
            let labels = [("route", label)]
            duration = handles.durationHistogram(MetricNames.requestDuration, labels, buckets: MetricNames.durationBuckets)
            probesSent = handles.counter(MetricNames.probesSent, labels)
            probesReset = handles.counter(MetricNames.probesReset, labels)
        }
    }

    private let handles: MetricHandles
    private let series = NIOLockedValueBox<[Key: RequestSeries]>([:])
    private let routes = NIOLockedValueBox<[String: Route]>([:])

    init(handles: MetricHandles) {
        self.handles = handles
    }

    /// Hit: one hash and an uncontended lock. Miss (first request of a series): the registry's
    /// own lock too, once.
    func series(route: String, status: Int) -> RequestSeries {
        let key = Key(route: route, status: status)
        if let found = series.withLockedValue({ $0[key] }) { return found }
        let made = RequestSeries(
            requests: handles.counter(MetricNames.requests, [("route", route), ("status", String(status))]),
            duration: self.route(route).duration)
        return series.withLockedValue { table in
            if let raced = table[key] { return raced }
            table[key] = made
            return made
        }
    }

    func route(_ label: String) -> Route {
        if let found = routes.withLockedValue({ $0[label] }) { return found }
        // The registry returns the existing handlers for a label set made twice, so a race here
        // makes two wrappers around the same series, and the first one stored wins.
        let made = Route(label: label, handles: handles)
        return routes.withLockedValue { table in
            if let raced = table[label] { return raced }
            table[label] = made
            return made
        }
    }
}
