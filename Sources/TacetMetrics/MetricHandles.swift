import CoreMetrics
import Prometheus

/// Makes swift-metrics handles (`Counter`, `Meter`, `Timer`) whose handlers live in one
/// `PrometheusCollectorRegistry`. The registry is used directly rather than through a global
/// `MetricsSystem.bootstrap`, which can happen once per process: every `TacetServer` (and every
/// test) gets its own registry, and each family gets its `# HELP` text.
struct MetricHandles: Sendable {
    let registry: PrometheusCollectorRegistry
    /// Only for swift-metrics' `destroy` calls; handles are made by the registry itself.
    let factory: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
    }

    func counter(_ name: MetricNameDescriptor, _ labels: [(String, String)] = []) -> CoreMetrics.Counter {
        let handler = labels.isEmpty ? registry.makeCounter(descriptor: name)
                                     : registry.makeCounter(descriptor: name, labels: labels)
        return CoreMetrics.Counter(label: name.name, dimensions: labels, handler: handler, factory: factory)
    }

    /// A gauge, as a swift-metrics `Meter` (set, increment, decrement).
    func gauge(_ name: MetricNameDescriptor, _ labels: [(String, String)] = []) -> Meter {
        let handler = labels.isEmpty ? registry.makeGauge(descriptor: name)
                                     : registry.makeGauge(descriptor: name, labels: labels)
        return Meter(label: name.name, dimensions: labels, handler: handler, factory: factory)
    }

    func durationHistogram(_ name: MetricNameDescriptor, _ labels: [(String, String)],
                           buckets: [Duration]) -> CoreMetrics.Timer {
        let handler = registry.makeDurationHistogram(descriptor: name, labels: labels, buckets: buckets)
        return CoreMetrics.Timer(label: name.name, dimensions: labels, handler: handler, factory: factory)
    }
}
