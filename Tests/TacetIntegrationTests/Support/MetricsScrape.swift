import TacetProbe
import TacetTestSupport

/// One scrape of an admin listener's `/metrics`, as series ("name{labels}") to value text.
struct MetricsScrape {
    let status: Int
    let contentType: String?
    let text: String
    let series: [String: String]

    /// GET /metrics over a real socket, with `Connection: close`.
    static func fetch(port: Int, path: String = "/metrics") async throws -> MetricsScrape {
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port, timeout: 5)
        try await client.send("GET \(path) HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
        let response = await client.readToEnd(timeout: 10).responses().finalResponses.first
        client.close()
        guard let response else { throw TestFailure("no response from \(path)") }
        var series: [String: String] = [:]
        for line in response.bodyString.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            series[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return MetricsScrape(status: response.status, contentType: response.header("content-type"),
                             text: response.bodyString, series: series)
    }

    /// The value of a series as a number (counters print "3", gauges "3.0").
    func value(_ name: String) -> Double? {
        series[name].flatMap(Double.init)
    }
}
