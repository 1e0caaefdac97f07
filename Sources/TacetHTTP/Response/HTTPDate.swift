#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// HTTP-date formatting and parsing (RFC 9110 §5.6.7).
///
/// Used on every static response (`Last-Modified`) and every conditional request
/// (`If-Modified-Since`, `If-Range`), so it avoids `DateFormatter` and locales:
/// plain civil-calendar arithmetic on UTF-8 bytes, always UTC.
public enum HTTPDate {
    private static let dayNames: [[UInt8]] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { Array($0.utf8) }
    private static let longDayNames: [[UInt8]] =
        ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"].map { Array($0.utf8) }
    private static let monthNames: [[UInt8]] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// Formats seconds since the Unix epoch as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`,
    /// the only form a sender may generate. Instants outside years 0...9999 are clamped.
    /// Now, formatted at most once a second per thread.
    public static var now: String { DateCache.current.value }

    public static func format(epochSeconds: Int) -> String {
        // Clamp to 0000-01-01...9999-12-31 so absurd file times cannot overflow the arithmetic.
        let t = min(max(epochSeconds, -62_167_219_200), 253_402_300_799)
        let days = floorDiv(t, 86_400)
        let secondsOfDay = t - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let weekday = floorMod(days + 4, 7) // 1970-01-01 was a Thursday.
        var out: [UInt8] = []
        out.reserveCapacity(29)
        out += dayNames[weekday]
        out += [UInt8(ascii: ","), UInt8(ascii: " ")]
        appendDigits(&out, day, width: 2)
        out.append(UInt8(ascii: " "))
        out += monthNames[month - 1]
        out.append(UInt8(ascii: " "))
        appendDigits(&out, year, width: 4)
        out.append(UInt8(ascii: " "))
        appendDigits(&out, secondsOfDay / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secondsOfDay / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secondsOfDay % 60, width: 2)
        out += Array(" GMT".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses an HTTP-date in any of the three forms a recipient must accept:
    /// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
    /// and asctime (`Sun Nov  6 08:49:37 1994`). Returns seconds since the epoch, or `nil`
    /// for anything else (callers then ignore the header, as RFC 9110 requires).
    ///
    /// Names and `GMT` are matched case-insensitively; the weekday must be a weekday name but is
    /// not checked against the date (clients get it wrong and nothing depends on it).
    /// - Parameter currentYear: for RFC 850 two-digit years: a year that would be more than
    ///   50 years in the future is taken from the previous century. Defaults to now.
    public static func parse(_ value: String, currentYear: Int? = nil) -> Int? {
        var bytes = Array(value.utf8)
        // Trim OWS that a lenient header parser may have left.
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        var scanner = Scanner(bytes: bytes)
        scanner.skipOWS()
        guard let weekday = scanner.letters() else { return nil }
        if scanner.eat(UInt8(ascii: ",")) {
            guard scanner.eat(UInt8(ascii: " ")) else { return nil }
            if weekday.count == 3, matches(weekday, dayNames) {
                return parseIMF(&scanner)
            }
            if matches(weekday, longDayNames) {
                return parseRFC850(&scanner, currentYear: currentYear ?? yearNow())
            }
            return nil
        }
        guard weekday.count == 3, matches(weekday, dayNames), scanner.eat(UInt8(ascii: " ")) else { return nil }
        return parseAsctime(&scanner)
    }

    // MARK: - The three forms

    /// `DD Mon YYYY HH:MM:SS GMT` (after `Sun, `).
    private static func parseIMF(_ s: inout Scanner) -> Int? {
        guard let day = s.digits(exactly: 2), s.eat(UInt8(ascii: " ")),
              let month = s.month(names: monthNames), s.eat(UInt8(ascii: " ")),
              let year = s.digits(exactly: 4), s.eat(UInt8(ascii: " ")),
              let time = s.timeOfDay(), s.eat(UInt8(ascii: " ")), s.gmt(), s.atEnd
        else { return nil }
        return epoch(year: year, month: month, day: day, time: time)
    }

    /// `DD-Mon-YY HH:MM:SS GMT` (after `Sunday, `).
    private static func parseRFC850(_ s: inout Scanner, currentYear: Int) -> Int? {
        guard let day = s.digits(exactly: 2), s.eat(UInt8(ascii: "-")),
              let month = s.month(names: monthNames), s.eat(UInt8(ascii: "-")),
              let yy = s.digits(exactly: 2), s.eat(UInt8(ascii: " ")),
              let time = s.timeOfDay(), s.eat(UInt8(ascii: " ")), s.gmt(), s.atEnd
        else { return nil }
        var year = currentYear - floorMod(currentYear, 100) + yy
        if year > currentYear + 50 { year -= 100 }
        return epoch(year: year, month: month, day: day, time: time)
    }

    /// `Mon DD HH:MM:SS YYYY` with the day space-padded (after `Sun `).
    private static func parseAsctime(_ s: inout Scanner) -> Int? {
        guard let month = s.month(names: monthNames), s.eat(UInt8(ascii: " ")) else { return nil }
        let day: Int
        if s.eat(UInt8(ascii: " ")) {
            guard let d = s.digits(exactly: 1) else { return nil }
            day = d
        } else {
            guard let d = s.digits(exactly: 2) else { return nil }
            day = d
        }
        guard s.eat(UInt8(ascii: " ")), let time = s.timeOfDay(), s.eat(UInt8(ascii: " ")),
              let year = s.digits(exactly: 4), s.atEnd
        else { return nil }
        return epoch(year: year, month: month, day: day, time: time)
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, H. Hinnant's days/civil algorithms)

    private static func epoch(year: Int, month: Int, day: Int, time: (h: Int, m: Int, s: Int)) -> Int? {
        guard day >= 1, day <= daysIn(month: month, year: year),
              time.h < 24, time.m < 60, time.s <= 60 // 60: a leap second is a valid time-of-day.
        else { return nil }
        return days(fromCivil: year, month, day) * 86_400 + time.h * 3600 + time.m * 60 + time.s
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func floorMod(_ a: Int, _ b: Int) -> Int { a - floorDiv(a, b) * b }

    private static func appendDigits(_ out: inout [UInt8], _ value: Int, width: Int) {
        var v = min(max(value, 0), 9999)
        var i = out.count + width - 1
        out += repeatElement(UInt8(ascii: "0"), count: width)
        while v > 0, i >= out.count - width {
            out[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            i -= 1
        }
    }

    private static func yearNow() -> Int {
        civil(fromDays: floorDiv(Int(time(nil)), 86_400)).year
    }

    private static func matches(_ word: ArraySlice<UInt8>, _ names: [[UInt8]]) -> Bool {
        names.contains { $0.count == word.count && zip($0, word).allSatisfy { $0 | 0x20 == $1 | 0x20 } }
    }

    /// A tiny cursor over the header bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func skipOWS() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        }

        mutating func eat(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// A run of ASCII letters (the weekday).
        mutating func letters() -> ArraySlice<UInt8>? {
            let start = index
            while index < bytes.count,
                  (bytes[index] | 0x20) >= UInt8(ascii: "a"), (bytes[index] | 0x20) <= UInt8(ascii: "z") {
                index += 1
            }
            return index > start ? bytes[start..<index] : nil
        }

        mutating func digits(exactly count: Int) -> Int? {
            guard bytes.count - index >= count else { return nil }
            var value = 0
            for i in index..<(index + count) {
                let b = bytes[i]
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            }
            index += count
            return value
        }

        /// A three-letter month name, returned as 1...12.
        mutating func month(names: [[UInt8]]) -> Int? {
            guard bytes.count - index >= 3 else { return nil }
            let word = bytes[index..<(index + 3)]
            guard let i = names.firstIndex(where: { zip($0, word).allSatisfy { $0 | 0x20 == $1 | 0x20 } })
            else { return nil }
            index += 3
            return i + 1
        }

        mutating func timeOfDay() -> (h: Int, m: Int, s: Int)? {
            guard let h = digits(exactly: 2), eat(UInt8(ascii: ":")),
                  let m = digits(exactly: 2), eat(UInt8(ascii: ":")),
                  let s = digits(exactly: 2)
            else { return nil }
            return (h, m, s)
        }

        mutating func gmt() -> Bool {
            guard bytes.count - index >= 3,
                  bytes[index] | 0x20 == UInt8(ascii: "g"),
                  bytes[index + 1] | 0x20 == UInt8(ascii: "m"),
                  bytes[index + 2] | 0x20 == UInt8(ascii: "t")
            else { return false }
            index += 3
            return true
        }
    }
}
