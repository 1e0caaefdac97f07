/// Text that compresses like a web asset (repeated words with noise), the same for a given
/// seed on every machine: bodies for the compression tests.
public enum SampleText {
    public static func text(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        let words = ["function", "return", "const", "let", "=>", "{", "}", "(", ")", "\n", "value", "index", "array"]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 16)
        while bytes.count < count {
            if Int.random(in: 0..<10, using: &generator) == 0 {
                bytes.append(UInt8.random(in: 0x21...0x7E, using: &generator))
            } else {
                bytes.append(contentsOf: (words.randomElement(using: &generator) ?? "x").utf8)
                bytes.append(0x20)
            }
        }
        return Array(bytes.prefix(count))
    }
}
