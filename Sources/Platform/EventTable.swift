import Foundation

/// One core's events, from `events/arm/<core>.json` (perf's pmu-events layout).
public struct EventTable: Sendable {
    /// One entry.
    public struct Event: Hashable, Sendable, Codable {
        /// The event number (the PMU's `event` field).
        public let code: UInt64
        /// Arm's name ("L2D_CACHE_REFILL").
        public let name: String
        /// One line.
        public let description: String
    }

    /// The table's path relative to `events/` without `.json` ("arm/cortex-a53").
    public let name: String
    /// Its events, ascending by code.
    public let events: [Event]
    private let byName: [String: Event]

    /// Parses a table. Throws `DataFileError` naming the file, the entry and the problem.
    public init(name: String, json: Data, file: String) throws(DataFileError) {
        guard let array = try? JSONSerialization.jsonObject(with: json) as? [Any] else {
            throw DataFileError(file: file, problem: "not a JSON array of events (perf's pmu-events layout)")
        }
        var events: [Event] = []
        var byName: [String: Event] = [:]
        for (i, item) in array.enumerated() {
            guard let o = item as? [String: Any] else {
                throw DataFileError(file: file, place: "entry \(i)", problem: "not an object")
            }
            guard let codeText = o["EventCode"] as? String else {
                throw DataFileError(file: file, place: "entry \(i)", problem: "missing EventCode (a hex string such as \"0x17\")")
            }
            let lower = codeText.lowercased()
            guard lower.hasPrefix("0x"), let code = UInt64(lower.dropFirst(2), radix: 16) else {
                throw DataFileError(file: file, place: "entry \(i)", problem: "EventCode '\(codeText)' is not hex such as \"0x17\"")
            }
            guard let name = o["EventName"] as? String, !name.isEmpty else {
                throw DataFileError(file: file, place: "entry \(i) (\(codeText))", problem: "missing EventName")
            }
            if byName[name.uppercased()] != nil {
                throw DataFileError(file: file, place: "entry \(i)", problem: "EventName \(name) appears twice")
            }
            let e = Event(code: code, name: name, description: o["BriefDescription"] as? String ?? "")
            events.append(e)
            byName[name.uppercased()] = e
        }
        self.name = name
        self.events = events.sorted { $0.code < $1.code }
        self.byName = byName
    }

    /// Loads `events/<name>.json` from the data directory.
    public static func load(_ name: String, data: URL) throws(DataFileError) -> EventTable {
        let url = data.appendingPathComponent("events/\(name).json")
        guard let json = FileManager.default.contents(atPath: url.path) else {
            throw DataFileError(file: url.path, problem: "cannot read the file")
        }
        return try EventTable(name: name, json: json, file: url.path)
    }

    /// The event with this name (case-insensitive), if the core implements it.
    public func event(named name: String) -> Event? { byName[name.uppercased()] }
}

/// `events/mapfile.csv`: MIDR to event table, as perf's mapfile.
public struct EventMapfile: Sendable {
    /// (implementer << 12 | part) to table name.
    private let entries: [UInt32: String]

    public init(csv: String, file: String) throws(DataFileError) {
        var entries: [UInt32: String] = [:]
        for (n, raw) in csv.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 3, let v = f[0].lowercased().hasPrefix("0x") ? UInt64(f[0].dropFirst(2), radix: 16) : nil else {
                throw DataFileError(file: file, place: "line \(n + 1)", problem: "expected MIDR,Version,Filename,EventType with a hex MIDR, found '\(line)'")
            }
            let midr = MIDR(rawValue: UInt32(truncatingIfNeeded: v))
            entries[midr.implementer << 12 | midr.part] = f[2]
        }
        self.entries = entries
    }

    public static func load(data: URL) throws(DataFileError) -> EventMapfile {
        let url = data.appendingPathComponent("events/mapfile.csv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw DataFileError(file: url.path, problem: "cannot read the file") }
        return try EventMapfile(csv: text, file: url.path)
    }

    /// The table name for a MIDR, matching implementer and part only.
    public func table(for midr: MIDR) -> String? { entries[midr.implementer << 12 | midr.part] }

    /// Every table name listed.
    public var tables: [String] { Array(Set(entries.values)).sorted() }
}
