import Foundation
@testable import TacetProbe
import TacetTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Waits (10 s at most) until a server process the test started accepts on `port`: false when
/// it does not, or exits first. A connect that succeeds is the event; between tries, 20 ms.
func waitUntilListening(port: Int, process: TestProcess) -> Bool {
    let deadline = Deadline(seconds: 10)
    while !deadline.isExpired {
        if let client = try? RawClient.connect(host: "127.0.0.1", port: port, timeout: 1) {
            client.close()
            return true
        }
        guard process.isRunning else { return false }
        var none = pollfd()
        _ = poll(&none, 0, 20)
    }
    return false
}
