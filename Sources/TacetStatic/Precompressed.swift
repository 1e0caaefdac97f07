import NIOHTTP1
import TacetCompression
import TacetHTTP

#if canImport(Glibc)
import Glibc
#endif

/// `precompressed:`: a file's sibling for the coding the client prefers (`app.js.br`), served in
/// its place when it is a regular file beneath the root and not older than the file itself. It
/// is a representation of its own: its own ETag and Last-Modified (from the sibling), its own
/// length, ranges of its bytes; the original's Content-Type.
struct Precompressed: Sendable {
    /// The server's order of preference.
    let codings: [ContentCoding]

    /// The codings to try for this request, best first: the client's weights, then ours.
    func candidates(for request: Request) -> [ContentCoding] {
        guard let accept = AcceptEncoding(headers: request.headers) else { return [] }
        let identity = accept.identityWeight
        var ranked: [(coding: ContentCoding, weight: Int, order: Int)] = []
        for (order, coding) in codings.enumerated() {
            let weight = accept.weight(of: coding)
            if weight > 0, weight >= identity { ranked.append((coding, weight, order)) }
        }
        ranked.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.order < $1.order }
        return ranked.map(\.coding)
    }

    /// The first sibling of `path` that may stand for `original`, opened.
    func open(_ path: String, original: stat, for request: Request,
              opener: (String) -> (fd: Int32, info: stat)?) -> (fd: Int32, info: stat, coding: ContentCoding)? {
        for coding in candidates(for: request) {
            guard let sibling = opener(path + coding.fileSuffix) else { continue }
            if Self.isFresh(sibling.info, comparedWith: original) { return (sibling.fd, sibling.info, coding) }
            close(sibling.fd)
        }
        return nil
    }

    /// Not older than the original: a sibling left over from an old build is not served.
    static func isFresh(_ sibling: stat, comparedWith original: stat) -> Bool {
        let s = sibling.st_mtim, o = original.st_mtim
        return s.tv_sec > o.tv_sec || (s.tv_sec == o.tv_sec && s.tv_nsec >= o.tv_nsec)
    }
}
