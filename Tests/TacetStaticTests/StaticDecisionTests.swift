import NIOHTTP1
import Testing
@testable import TacetStatic

@Suite struct StaticDecisionTests {
    let info = FileInfo(size: 1000, mtimeSeconds: 784_111_777)
    let etag = "\"2ebc98a1-3e8\""
    let lastModified = "Sun, 06 Nov 1994 08:49:37 GMT"
    let earlier = "Sat, 05 Nov 1994 08:49:37 GMT"
    let later = "Mon, 07 Nov 1994 08:49:37 GMT"

    func decide(_ method: HTTPMethod = .GET, _ fields: [(String, String)]) -> Decision {
        StaticDecision.decide(method: method, headers: HTTPHeaders(fields), info: info)
    }

    var full: Decision { .full(size: 1000, etag: etag, lastModified: lastModified) }
    var notModified: Decision { .notModified(etag: etag, lastModified: lastModified) }

    @Test func onlyGetAndHead() {
        for method in [HTTPMethod.POST, .PUT, .DELETE, .OPTIONS, .PATCH, .RAW(value: "BREW")] {
            let d = decide(method, [])
            #expect(d == .methodNotAllowed(allow: "GET, HEAD"))
            #expect(d.status == .methodNotAllowed)
            #expect(d.headers["Allow"] == ["GET, HEAD"])
            #expect(d.bodyRange == nil)
        }
    }

    @Test func plainGetAndHead() {
        let d = decide(.GET, [])
        #expect(d == full)
        #expect(d.status == .ok)
        #expect(d.headers == HTTPHeaders([
            ("ETag", etag), ("Last-Modified", lastModified), ("Accept-Ranges", "bytes"), ("Content-Length", "1000"),
        ]))
        #expect(d.bodyRange == 0..<1000)
        #expect(decide(.HEAD, []) == full)
    }

    @Test func ifNoneMatch() {
        #expect(decide(.GET, [("If-None-Match", etag)]) == notModified)
        #expect(decide(.HEAD, [("If-None-Match", etag)]) == notModified)
        #expect(decide(.GET, [("If-None-Match", "W/\(etag)")]) == notModified) // weak comparison
        #expect(decide(.GET, [("If-None-Match", "*")]) == notModified)
        #expect(decide(.GET, [("If-None-Match", "\"a\", \(etag)")]) == notModified)
        #expect(decide(.GET, [("If-None-Match", "\"a\""), ("If-None-Match", etag)]) == notModified)
        #expect(decide(.GET, [("If-None-Match", "\"a\", W/\"b\"")]) == full)
        #expect(decide(.GET, [("If-None-Match", "2ebc98a1-3e8")]) == full) // unquoted is not an entity-tag
        let d = decide(.GET, [("If-None-Match", etag)])
        #expect(d.status == .notModified)
        #expect(d.headers == HTTPHeaders([("ETag", etag), ("Last-Modified", lastModified)]))
        #expect(d.bodyRange == nil)
    }

    @Test func ifModifiedSince() {
        #expect(decide(.GET, [("If-Modified-Since", lastModified)]) == notModified)
        #expect(decide(.GET, [("If-Modified-Since", later)]) == notModified)
        #expect(decide(.GET, [("If-Modified-Since", earlier)]) == full)
        #expect(decide(.GET, [("If-Modified-Since", "yesterday")]) == full)
        #expect(decide(.GET, [("If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT")]) == notModified)
        #expect(decide(.GET, [("If-Modified-Since", "Sun Nov  6 08:49:37 1994")]) == notModified)
        #expect(decide(.GET, [("If-Modified-Since", later), ("If-Modified-Since", later)]) == full)
    }

    @Test func ifNoneMatchTakesPrecedenceOverIfModifiedSince() {
        // A mismatching tag means "changed" even though the date says "unchanged".
        #expect(decide(.GET, [("If-None-Match", "\"other\""), ("If-Modified-Since", later)]) == full)
        // A matching tag wins even though the date says "changed".
        #expect(decide(.GET, [("If-None-Match", etag), ("If-Modified-Since", earlier)]) == notModified)
    }

    @Test func preconditions() {
        #expect(decide(.GET, [("If-Match", "\"other\"")]) == .preconditionFailed)
        #expect(decide(.GET, [("If-Match", "W/\(etag)")]) == .preconditionFailed) // strong comparison
        #expect(decide(.GET, [("If-Match", etag)]) == full)
        #expect(decide(.GET, [("If-Match", "*")]) == full)
        #expect(decide(.GET, [("If-Unmodified-Since", earlier)]) == .preconditionFailed)
        #expect(decide(.GET, [("If-Unmodified-Since", lastModified)]) == full)
        #expect(decide(.GET, [("If-Unmodified-Since", "junk")]) == full)
        // If-Match, when present, makes If-Unmodified-Since irrelevant; and it is checked before If-None-Match.
        #expect(decide(.GET, [("If-Match", etag), ("If-Unmodified-Since", earlier)]) == full)
        #expect(decide(.GET, [("If-Match", "\"other\""), ("If-None-Match", etag)]) == .preconditionFailed)
        #expect(Decision.preconditionFailed.status == .preconditionFailed)
    }

    @Test func ranges() {
        let d = decide(.GET, [("Range", "bytes=0-99")])
        #expect(d == .partial(start: 0, end: 99, size: 1000, etag: etag, lastModified: lastModified))
        #expect(d.status == .partialContent)
        #expect(d.headers["Content-Range"] == ["bytes 0-99/1000"])
        #expect(d.headers["Content-Length"] == ["100"])
        #expect(d.headers["Accept-Ranges"] == ["bytes"])
        #expect(d.headers["ETag"] == [etag])
        #expect(d.bodyRange == 0..<100)
        #expect(decide(.GET, [("Range", "bytes=-1")]).bodyRange == 999..<1000)
        #expect(decide(.GET, [("Range", "bytes=990-5000")]).headers["Content-Range"] == ["bytes 990-999/1000"])
    }

    @Test func unsatisfiableRange() {
        let d = decide(.GET, [("Range", "bytes=1000-")])
        #expect(d == .rangeNotSatisfiable(size: 1000))
        #expect(d.status == .rangeNotSatisfiable)
        #expect(d.headers["Content-Range"] == ["bytes */1000"])
        #expect(d.bodyRange == nil)
    }

    @Test func rangeIgnoredWhenNotApplicable() {
        #expect(decide(.HEAD, [("Range", "bytes=0-99")]) == full)
        #expect(decide(.GET, [("Range", "bytes=0-1,5-6")]) == full)
        #expect(decide(.GET, [("Range", "lines=0-1")]) == full)
        #expect(decide(.GET, [("Range", "bytes=0-1"), ("Range", "bytes=2-3")]) == full)
        // A conditional 304 beats a range.
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-None-Match", etag)]) == notModified)
    }

    @Test func ifRange() {
        let partial = Decision.partial(start: 0, end: 99, size: 1000, etag: etag, lastModified: lastModified)
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", etag)]) == partial)
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", lastModified)]) == partial)
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", "\"other\"")]) == full)
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", "W/\(etag)")]) == full)
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", later)]) == full) // exact date only
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", earlier)]) == full)
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", "garbage")]) == full)
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", "*")]) == full)
        #expect(decide(.GET, [("Range", "bytes=0-99"), ("If-Range", "\(etag), \(etag)")]) == full)
        #expect(decide(.GET, [("Range", "bytes=5000-"), ("If-Range", "\"other\"")]) == full)
    }

    @Test func emptyFile() {
        let empty = FileInfo(size: 0, mtimeSeconds: 0)
        let d = StaticDecision.decide(method: .GET, headers: HTTPHeaders([("Range", "bytes=0-")]), info: empty)
        #expect(d == .rangeNotSatisfiable(size: 0))
        let whole = StaticDecision.decide(method: .GET, headers: HTTPHeaders([("Range", "bytes=-5")]), info: empty)
        #expect(whole == .full(size: 0, etag: "\"0-0\"", lastModified: "Thu, 01 Jan 1970 00:00:00 GMT"))
        #expect(whole.bodyRange == 0..<0)
    }
}
