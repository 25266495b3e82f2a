/// A gem5 `stats.txt`: every dump (the lines between `Begin Simulation Statistics` and
/// `End Simulation Statistics`), each a table of stat name to value.
///
/// gem5 appends one block per dump (`m5 dumpstats`, `periodicStatDump`); a line is
/// `name value [pdf% cdf%] # description (Unit)`, with the `(Unit)` from v21.0 on. Values are
/// numbers, `nan` (`no_value` before 2012), `inf` or `-inf`. Vectors print `name::subname` and
/// `name::total`; distributions `::samples`, `::mean`, buckets `::lo-hi`; all are kept as names.
/// Source: gem5 `src/base/stats/text.cc` (facts file §2.1).
public struct Gem5StatsFile: Sendable {
    /// One dump.
    public struct Dump: Sendable {
        /// 0-based position in the file.
        public let index: Int
        /// Stat name to value. NaN stands for `nan`/`no_value`.
        public let values: [String: Double]
        /// Line of the dump's Begin line (1-based), for messages.
        public let line: Int
        /// Whether the dump's End line was seen (a file cut short has a last dump without it).
        public let complete: Bool

        /// The value of `name`, nil when the dump does not have it.
        public subscript(name: String) -> Double? { values[name] }
    }

    /// The dumps in file order.
    public let dumps: [Dump]
    /// Lines inside dumps that were not `name value ...` stats (one-line histograms, garbage),
    /// as (line number, reason); they are skipped.
    public let skipped: [(line: Int, reason: String)]

    static let begin = "---------- Begin Simulation Statistics ----------"
    static let end = "---------- End Simulation Statistics"

    /// Parses the text of a stats.txt. Throws when it holds no dump at all.
    public init(text: String, file: String = "stats.txt") throws(Gem5StatsError) {
        var dumps: [Dump] = []
        var skipped: [(Int, String)] = []
        var current: [String: Double]? = nil
        var beginLine = 0
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            if line.hasPrefix(Self.begin) {
                if let open = current {
                    dumps.append(Dump(index: dumps.count, values: open, line: beginLine, complete: false))
                }
                current = [:]
                beginLine = lineNumber
                continue
            }
            if line.hasPrefix(Self.end) {
                guard let open = current else {
                    throw Gem5StatsError(file: file, line: lineNumber, problem: "an End line without a Begin line")
                }
                dumps.append(Dump(index: dumps.count, values: open, line: beginLine, complete: true))
                current = nil
                continue
            }
            guard current != nil else { continue } // text between dumps (none in gem5's output)
            let body = line.firstIndex(of: "#").map { line[..<$0] } ?? line
            let fields = body.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            guard fields.count >= 2 else {
                skipped.append((lineNumber, "a name without a value"))
                continue
            }
            if fields.contains("|") {
                skipped.append((lineNumber, "a one-line distribution (its buckets are not used)"))
                continue
            }
            guard let value = Self.value(fields[1]) else {
                skipped.append((lineNumber, "'\(fields[1])' is not a number"))
                continue
            }
            current![String(fields[0])] = value
        }
        if let open = current {
            dumps.append(Dump(index: dumps.count, values: open, line: beginLine, complete: false))
        }
        guard !dumps.isEmpty else {
            throw Gem5StatsError(file: file, line: nil,
                                 problem: "not a gem5 stats.txt: no '---------- Begin Simulation Statistics ----------' line")
        }
        self.dumps = dumps
        self.skipped = skipped
    }

    /// A value as gem5 prints it: a number, `nan`, `no_value` (NaN before 2012), `inf`, `-inf`.
    static func value(_ token: Substring) -> Double? {
        switch token {
        case "nan", "-nan", "no_value": return .nan
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        default: return Double(token)
        }
    }
}

/// A stats file that cannot be read; the message names the file and, where known, the line.
public struct Gem5StatsError: Error, Sendable, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let problem: String

    public init(file: String, line: Int?, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(problem)" }
}
