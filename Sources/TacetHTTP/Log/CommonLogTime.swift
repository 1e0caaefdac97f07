#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The access log's time, without Foundation. (HTTP-dates themselves: `HTTPDate`.)
public enum CommonLogTime {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// nginx's `$time_local` shape in UTC, for the combined log format: `26/Nov/2026:01:54:07 +0000`.
    public static func format(epochSeconds: Int) -> String {
        var t = time_t(epochSeconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        return "\(pad2(tm.tm_mday))/\(months[Int(tm.tm_mon)])/\(tm.tm_year + 1900):"
            + "\(pad2(tm.tm_hour)):\(pad2(tm.tm_min)):\(pad2(tm.tm_sec)) +0000"
    }

    private static func pad2(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
