import Counters
import Foundation
import LinuxSystem
import Platform

/// What `socprof check` found on one cluster, as it prints it (`--json`) and keeps it in the cache
/// for `profile` and `info` (schema `socprof.check`, version 1; docs/check.md).
public struct CounterCheckReport: Codable, Sendable, Equatable {
    public static let schemaName = "socprof.check"
    public static let schemaVersion = 1

    public var schema = CounterCheckReport.schemaName
    public var schema_version = CounterCheckReport.schemaVersion
    /// When the checks ran, ISO 8601 in UTC ("2026-12-05T14:07:07Z").
    public let checked_at: String
    /// The board file's name, or "unknown" (as the ceilings cache names it).
    public let board: String
    public let cluster: String
    /// The core type ("cortex-a53"), when known.
    public let core: String?
    /// The CPUs the thread was pinned to.
    public let cpus: [Int]
    /// The cluster's core PMU, or nil when it has none.
    public let pmu: String?
    public let architecture: String
    public let perf_event_paranoid: Int?
    public let checks: [CounterCheckResult]
    /// Where the cache sizes came from, and how the events were counted.
    public let notes: [String]

    public init(checkedAt: Date, board: String, cluster: String, core: String?, cpus: [Int], pmu: String?, architecture: String,
                paranoid: Int?, checks: [CounterCheckResult], notes: [String]) {
        checked_at = Self.timestamp(checkedAt)
        self.board = board
        self.cluster = cluster
        self.core = core
        self.cpus = cpus
        self.pmu = pmu
        self.architecture = architecture
        perf_event_paranoid = paranoid
        self.checks = checks
        self.notes = notes
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// The day of `checked_at` ("2026-12-05").
    public var checkedDay: String { String(checked_at.prefix(10)) }

    /// The result for one metric (instructions, cycles, l1d_refills, llc_bytes, task_clock).
    public func check(_ metric: String) -> CounterCheckResult? { checks.first { $0.metric == metric } }

    // MARK: - The cache

    /// Where verdicts are kept: `socprof/check` beside `socprof/ceilings` in the same cache
    /// directory ($XDG_CACHE_HOME, else ~/.cache), one file per board and cluster.
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        CacheDirectory.url("check", environment: environment)
    }

    /// The file name for a board and cluster ("odroid-xu3-big.json"), as the ceilings cache
    /// names its files by board and cluster.
    public static func key(board: String, cluster: String) -> String {
        func clean(_ s: String) -> String {
            String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        }
        return "\(clean(board))-\(clean(cluster)).json"
    }

    /// The report as JSON (sorted keys, pretty, a final newline).
    public func json() throws -> String {
        String(decoding: try ReportJSON.encoder().encode(self), as: UTF8.self) + "\n"
    }

    /// Keeps the report in `directory` (atomically), replacing the cluster's previous one.
    @discardableResult
    public func save(in directory: URL = CounterCheckReport.directory()) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(Self.key(board: board, cluster: cluster))
        try Data(try json().utf8).write(to: url, options: .atomic)
        return url
    }

    /// The kept report of a board's cluster; nil when `check` has not run there (or the file is
    /// not a socprof.check version 1 file).
    public static func load(board: String, cluster: String, in directory: URL = CounterCheckReport.directory()) -> CounterCheckReport? {
        let url = directory.appendingPathComponent(key(board: board, cluster: cluster))
        guard let data = FileManager.default.contents(atPath: url.path),
              let report = try? JSONDecoder().decode(CounterCheckReport.self, from: data),
              report.schema == schemaName, report.schema_version == schemaVersion else { return nil }
        return report
    }

    /// One line for `profile` and `info`: "counters checked 2026-12-05: instructions trustworthy
    /// (1.00x), cycles unavailable (no PMU), ..."; nil when `check` has not run on this cluster.
    public static func summary(board: String, cluster: String, in directory: URL = CounterCheckReport.directory()) -> String? {
        load(board: board, cluster: cluster, in: directory)?.summary
    }

    /// This report in one line.
    public var summary: String {
        "counters checked \(checkedDay): " + checks.map { c in
            switch c.verdict {
            case .trustworthy: "\(c.metric) trustworthy (\(c.ratio.map(CounterCheck.formatFactor) ?? "?"))"
            case .offByFactor(let f): "\(c.metric) off by a factor (\(CounterCheck.formatFactor(f)))"
            case .countsZero: "\(c.metric) counts 0"
            case .unavailable(let r): "\(c.metric) unavailable (\(r))"
            }
        }.joined(separator: ", ")
    }

    // MARK: - Text

    /// The report as `socprof check` prints it: a table of verdicts, then per check the event,
    /// the kernel and the reason or detail.
    public func text(keptIn file: String? = nil) -> String {
        func number(_ v: Double?) -> String {
            guard let v else { return "-" }
            return CounterCheckRunner.grouped(v)
        }
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            s.count >= n ? s : (left ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
        }
        var lines: [String] = []
        lines.append("cluster \(cluster) (cpus \(CPUSet(cpus).description)\(core.map { ", \($0)" } ?? "")), board \(board), \(architecture), "
            + (pmu.map { "PMU \($0)" } ?? "no core PMU") + "; one thread pinned to these CPUs")
        lines.append("")
        let verdictWidth = max(7, checks.map(\.verdict.text.count).max() ?? 0)
        lines.append(pad("metric", 14) + pad("verdict", verdictWidth + 2) + pad("expected", 16, left: true) + pad("measured", 16, left: true) + pad("ratio", 8, left: true))
        for c in checks {
            lines.append(pad(c.metric, 14) + pad(c.verdict.text, verdictWidth + 2) + pad(number(c.expected), 16, left: true)
                         + pad(number(c.measured), 16, left: true) + pad(c.ratio.map { String(format: "%.3f", $0) } ?? "-", 8, left: true))
        }
        lines.append("")
        for c in checks {
            lines.append("\(c.metric) [\(c.unit)]: \(c.event ?? "no event"), \(c.eventSource); tolerance ±\(String(format: "%g", c.tolerance * 100)) %")
            lines.append("  kernel: \(c.kernel)")
            if let d = c.detail { lines.append("  \(c.verdict.code == "unavailable" ? "why" : "detail"): \(d)") }
        }
        if !notes.isEmpty {
            lines.append("")
            for n in notes { lines.append("note: \(n)") }
        }
        if let file { lines.append("kept in \(file)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
