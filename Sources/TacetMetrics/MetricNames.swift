import Prometheus

/// Every metric Tacet exports: names as nginx-prometheus-exporter and Envoy users expect them
/// (`namespace_subsystem_name_unit`), with the help text shown by `# HELP`. Kept in one place
/// so docs/operations.md's table, the tests and the registry cannot disagree.
///
/// Computed: `MetricNameDescriptor` is not `Sendable`, and these are read only when a handle is made.
enum MetricNames {
    static var requests: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "http", metricName: "requests", unitName: "total",
        helpText: "HTTP requests finished, by route and status (499: client gone before an answer).") }
    static var requestDuration: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "http", metricName: "request_duration", unitName: "seconds",
        helpText: "Time from a request's head to the end of its response, by route.") }
    static var connectionsActive: MetricNameDescriptor { .init(
        namespace: "tacet", metricName: "connections_active", unitName: "",
        helpText: "Open HTTP client connections.") }
    static var connectionsClosed: MetricNameDescriptor { .init(
        namespace: "tacet", metricName: "connections_closed", unitName: "total",
        helpText: "HTTP client connections ended, by why: client_fin, client_rst, write_failed, timeout, server_close.") }
    static var bytesReceived: MetricNameDescriptor { .init(
        namespace: "tacet", metricName: "bytes_received", unitName: "total",
        helpText: "Bytes read from HTTP clients (counted when a connection ends).") }
    static var bytesSent: MetricNameDescriptor { .init(
        namespace: "tacet", metricName: "bytes_sent", unitName: "total",
        helpText: "Bytes written to HTTP clients (counted when a connection ends).") }
    static var probesSent: MetricNameDescriptor { .init(
        namespace: "tacet", metricName: "probes_sent", unitName: "total",
        helpText: "Interim responses sent by the probe FIN policy to half-closed clients, by route.") }
    static var probesReset: MetricNameDescriptor { .init(
        namespace: "tacet", metricName: "probes_reset", unitName: "total",
        helpText: "Probes answered by an RST (the client had really gone), by route.") }
    static var upstreamUp: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "upstream", metricName: "up", unitName: "",
        helpText: "1 if the upstream server takes new connections (health checks, passive failures), else 0.") }
    static var upstreamActive: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "upstream", metricName: "active_connections", unitName: "",
        helpText: "Connections in use to the upstream server (proxy requests and streams).") }
    static var upstreamIdle: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "upstream", metricName: "idle_pool_connections", unitName: "",
        helpText: "Idle keep-alive connections pooled for the upstream, all event loops together.") }
    static var upstreamProtocolErrors: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "upstream", metricName: "protocol_errors", unitName: "total",
        helpText: "Upstream connections closed because the server broke HTTP, by upstream and reason: extra_bytes (sent past a response's end), invalid_response, closed_early.") }
    static var upstreamExtraBytes: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "upstream", metricName: "extra_bytes", unitName: "total",
        helpText: "Bytes upstreams sent past the end of a response, discarded (never given to a request), by upstream.") }
    static var clientLimited: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "client", metricName: "limited", unitName: "total",
        helpText: "Clients over a per-client limit, by limit: connections (closed at once), requests (429).") }
    static var proxyProtocolRefused: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "proxy_protocol", metricName: "refused", unitName: "total",
        helpText: "Connections closed on a proxy_protocol listener (HTTP or stream) for want of a good PROXY header, by reason: untrusted (peer not in trusted_proxies), invalid, timeout, incomplete (closed first).") }
    static var http2ConnectionErrors: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "http2", metricName: "connection_errors", unitName: "total",
        helpText: "HTTP/2 connections closed with GOAWAY because the client broke a limit, by reason: rapid_reset, continuation_flood, empty_data_flood, control_frame_flood, stream_errors, glitches, outbound_buffering.") }
    static var grpcResponses: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "grpc", metricName: "responses", unitName: "total",
        helpText: "gRPC calls answered, by route and grpc_status (0 to 16, the upstream's or Tacet's own for a call it failed; invalid for anything else).") }
    static var compressionBytesIn: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "compression", metricName: "bytes_in", unitName: "total",
        helpText: "Response body bytes Tacet compressed, before compression, by encoding (zstd, br, gzip).") }
    static var compressionBytesOut: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "compression", metricName: "bytes_out", unitName: "total",
        helpText: "The same bodies' bytes after compression, by encoding.") }
    static var compressionResponses: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "compression", metricName: "responses", unitName: "total",
        helpText: "Responses compressed whole, by encoding.") }
    static var compressionFailures: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "compression", metricName: "failures", unitName: "total",
        helpText: "Responses cut short because their compressor failed.") }
    static var tlsHandshakes: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "tls", metricName: "handshakes", unitName: "total",
        helpText: "TLS handshakes on listeners, by version (1.2, 1.3; - when none was agreed) and outcome: ok, failed, timeout, plain_http.") }
    static var tlsCertificateExpiry: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "tls", metricName: "certificate_expiry", unitName: "seconds",
        helpText: "Seconds until each listener certificate expires (negative: expired), by listener and certificate file.") }
    static var streamsClosed: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "stream", metricName: "connections_closed", unitName: "total",
        helpText: "TCP streams ended, by listener and end: clean, reset, timeout, connect_failed, refused (no good PROXY header).") }
    static var streamBytesReceived: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "stream", metricName: "bytes_received", unitName: "total",
        helpText: "Bytes from stream clients, forwarded upstream, by listener.") }
    static var streamBytesSent: MetricNameDescriptor { .init(
        namespace: "tacet", subsystem: "stream", metricName: "bytes_sent", unitName: "total",
        helpText: "Bytes from upstreams, forwarded to stream clients, by listener.") }

    /// Request duration buckets: from 0.5 ms (a fixed or cached response on loopback) to 10 s (a
    /// slow upstream). Prometheus's defaults start at 5 ms, where every local request would land.
    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
}
