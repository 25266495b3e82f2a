import Kernels

/// Seeded mutations of valid inputs, for tests that feed parsers what a broken board, a truncated
/// file or a careless script gives them: every mutant must be either accepted or refused with an
/// error, never a trap or a hang.
public struct Mutator {
    private var random: SplitMix64

    public init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// The next draw of the seeded generator (Kernels' SplitMix64).
    public mutating func next() -> UInt64 { random.next() }

    public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// Text that has broken parsers before: separators, signs, special numbers, huge numbers,
    /// brackets, NUL, empty.
    public static let tokens = ["=", ",", ",=", "=,", "==", ",,", "-", ":", "::", "/", "0x", "0X", "nan", "NaN", "inf", "-inf", "1e308", "1e999", "5e-324", "-1", "0",
                                "9223372036854775808", "18446744073709551616", "\n", "\r\n", "\t", " ", "\"", "'", "{", "}", "[", "]", "(", ")",
                                "#", "\u{0}", "", "..", "%", "\\", "event=", "config:0-63", "null", "true", "é", "🙂"]

    /// One mutant of `text`: up to three edits (delete a run, duplicate a run, insert a token,
    /// replace a character with a token, truncate).
    public mutating func mutate(_ text: String) -> String {
        var chars = Array(text)
        for _ in 0...below(3) {
            let at = chars.isEmpty ? 0 : below(chars.count + 1)
            switch below(5) {
            case 0 where !chars.isEmpty:
                let end = min(chars.count, at + 1 + below(8))
                if at < end { chars.removeSubrange(at..<end) }
            case 1 where !chars.isEmpty && at < chars.count:
                let end = min(chars.count, at + 1 + below(16))
                chars.insert(contentsOf: chars[at..<end], at: at)
            case 2:
                chars.insert(contentsOf: Array(Self.tokens[below(Self.tokens.count)]), at: at)
            case 3 where !chars.isEmpty && at < chars.count:
                chars.replaceSubrange(at...at, with: Array(Self.tokens[below(Self.tokens.count)]))
            default:
                chars = Array(chars.prefix(at))
            }
        }
        return String(chars)
    }
}
