import Foundation

/// ACME's part of `/metrics`, rendered at each scrape: orders by outcome, and per managed name
/// its certificate's expiry, its next renewal, failures in a row and the last error.
enum ACMEMetricsText {
    static func render(_ manager: ACMEManager?) -> [UInt8] {
        guard let manager else { return [] }
        let (issued, failed, names) = manager.metrics
        var text = "# HELP tacet_acme_orders_total Certificate orders from the ACME CA, by outcome.\n# TYPE tacet_acme_orders_total counter\n"
        text += "tacet_acme_orders_total{outcome=\"issued\"} \(issued)\ntacet_acme_orders_total{outcome=\"failed\"} \(failed)\n"
        text += "# HELP tacet_acme_certificate_expiry_timestamp_seconds When each managed name's stored certificate expires.\n"
        text += "# TYPE tacet_acme_certificate_expiry_timestamp_seconds gauge\n"
        for (name, status) in names {
            if let notAfter = status.notAfter { text += "tacet_acme_certificate_expiry_timestamp_seconds{name=\"\(name)\"} \(Int(notAfter.timeIntervalSince1970))\n" }
        }
        text += "# HELP tacet_acme_renewal_timestamp_seconds When each managed name is next ordered (renewal, or the retry after a failure).\n"
        text += "# TYPE tacet_acme_renewal_timestamp_seconds gauge\n"
        for (name, status) in names {
            if let next = [status.renewAt, status.retryAt].compactMap({ $0 }).max() {
                text += "tacet_acme_renewal_timestamp_seconds{name=\"\(name)\"} \(Int(next.timeIntervalSince1970))\n"
            }
        }
        text += "# HELP tacet_acme_failures Failed attempts in a row, per managed name.\n# TYPE tacet_acme_failures gauge\n"
        for (name, status) in names { text += "tacet_acme_failures{name=\"\(name)\"} \(status.failures)\n" }
        text += "# HELP tacet_acme_last_error_info The latest failure, per managed name that has failed since it last got a certificate.\n"
        text += "# TYPE tacet_acme_last_error_info gauge\n"
        for (name, status) in names {
            if let error = status.lastError { text += "tacet_acme_last_error_info{name=\"\(name)\",error=\"\(label(error))\"} 1\n" }
        }
        return Array(text.utf8)
    }

    /// A label value: at most 200 characters, escaped as the text format says.
    static func label(_ text: String) -> String {
        String(text.prefix(200)).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
