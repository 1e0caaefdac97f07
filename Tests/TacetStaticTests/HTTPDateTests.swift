import Glibc
import Testing
import TacetHTTP

@Suite struct HTTPDateTests {
    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(epochSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(epochSeconds: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.format(epochSeconds: -1) == "Wed, 31 Dec 1969 23:59:59 GMT")
    }

    /// Cross-check the arithmetic against libc over a spread of instants.
    @Test func formatMatchesGmtime() {
        var t = -2_000_000_000
        while t < 8_000_000_000 {
            var tt = time_t(t)
            var parts = tm()
            gmtime_r(&tt, &parts)
            var buffer = [CChar](repeating: 0, count: 64)
            let n = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            let expected = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            #expect(HTTPDate.format(epochSeconds: t) == expected)
            #expect(HTTPDate.parse(expected) == t)
            t += 7_777_777
        }
    }

    @Test func parsesAllThreeForms() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", currentYear: 2025) == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.parse("Wed Nov 16 08:49:37 1994") == 784_111_777 + 10 * 86_400)
        #expect(HTTPDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT \t") == 784_111_777)
        #expect(HTTPDate.parse("sun, 06 nov 1994 08:49:37 gmt") == 784_111_777)
    }

    @Test func rfc850TwoDigitYearsUseTheFiftyYearRule() {
        #expect(HTTPDate.parse("Tuesday, 01-Jan-30 00:00:00 GMT", currentYear: 2025) == 1_893_456_000)
        #expect(HTTPDate.parse("Tuesday, 01-Jan-80 00:00:00 GMT", currentYear: 2025) == 315_532_800)
        #expect(HTTPDate.parse("Thursday, 01-Jan-70 00:00:00 GMT", currentYear: 2025) == 3_155_760_000)
        #expect(HTTPDate.parse("Saturday, 01-Jan-00 00:00:00 GMT", currentYear: 2025) == 946_684_800)
    }

    @Test(arguments: [
        "", "garbage", "784111777", "1994-11-06T08:49:37Z",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Funday, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Sun Nov  6 8:49:37 1994",
        "Sun, 00 Nov 1994 08:49:37 GMT",
    ])
    func rejectsGarbage(_ value: String) {
        #expect(HTTPDate.parse(value, currentYear: 2025) == nil)
    }

    @Test func extremeInstantsClampInsteadOfTrapping() {
        #expect(HTTPDate.format(epochSeconds: Int.max) == "Fri, 31 Dec 9999 23:59:59 GMT")
        #expect(HTTPDate.format(epochSeconds: Int.min) == "Sat, 01 Jan 0000 00:00:00 GMT")
    }

    @Test func leapDayAndLeapSecond() {
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 00:00:00 GMT") == 951_782_400)
        #expect(HTTPDate.parse("Sat, 31 Dec 2016 23:59:60 GMT") == HTTPDate.parse("Sun, 01 Jan 2017 00:00:00 GMT"))
    }
}
