import Counters
import Foundation

/// The metric formulas of `events/metrics.json` (docs/event-tables.md).
public struct MetricCatalog: Sendable {
    /// One way to compute a metric, with the conditions under which it applies.
    public struct Formula: Sendable, Hashable {
        /// Core identifiers it applies to ("x86" any x86-64, "*" any); nil: any core.
        public let cores: [String]?
        /// `pmu:NAME`: applies when that PMU is registered and may be opened system-wide.
        public let when: String?
        /// The expression as written.
        public let text: String
        /// The parsed expression.
        public let expression: MetricExpression
        /// `task` (counted on the profiled threads) or `system` (per CPU, everything).
        public let scope: String
        /// What it measures and its caveats (provenance in reports).
        public let note: String?
        /// Set on an entry that says why the metric cannot be had on its cores (`"unavailable"`).
        public let unavailable: String?
    }

    /// One metric.
    public struct Metric: Sendable, Hashable {
        public let name: String
        /// "bytes", "cycles", "events", "instructions per cycle".
        public let unit: String
        public let description: String
        public let formulas: [Formula]
    }

    /// Line size used when sysfs does not give one, bytes.
    public let lineSizeDefault: Int
    /// The metrics, in file order.
    public let metrics: [Metric]

    /// Parses the file. Throws `DataFileError` naming the metric, the formula and the problem.
    public init(json: Data, file: String) throws(DataFileError) {
        guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw DataFileError(file: file, problem: "not a JSON object with \"metrics\"")
        }
        guard let list = root["metrics"] as? [[String: Any]] else {
            throw DataFileError(file: file, place: "metrics", problem: "missing or not an array of objects")
        }
        lineSizeDefault = root["line_size_default"] as? Int ?? 64
        var metrics: [Metric] = []
        for (i, m) in list.enumerated() {
            guard let name = m["name"] as? String, !name.isEmpty else {
                throw DataFileError(file: file, place: "metrics[\(i)]", problem: "missing name")
            }
            guard let fs = m["formulas"] as? [[String: Any]], !fs.isEmpty else {
                throw DataFileError(file: file, place: "metrics[\(i)] (\(name))", problem: "missing formulas (a non-empty array)")
            }
            var formulas: [Formula] = []
            for (j, f) in fs.enumerated() {
                let place = "metrics[\(i)] (\(name)).formulas[\(j)]"
                if let why = f["unavailable"] as? String {
                    guard f["cores"] is [String] else {
                        throw DataFileError(file: file, place: place, problem: "an \"unavailable\" entry needs the \"cores\" it applies to")
                    }
                    formulas.append(Formula(cores: f["cores"] as? [String], when: nil, text: "", expression: .number(0),
                                            scope: "task", note: nil, unavailable: why))
                    continue
                }
                guard let text = f["expr"] as? String else { throw DataFileError(file: file, place: place, problem: "missing expr (or \"unavailable\")") }
                let expression: MetricExpression
                do { expression = try MetricExpression.parse(text) } catch {
                    throw DataFileError(file: file, place: place, problem: error.description)
                }
                if let w = f["when"] as? String, !w.hasPrefix("pmu:") {
                    throw DataFileError(file: file, place: place, problem: "when '\(w)' is not of the form pmu:NAME")
                }
                let scope = f["scope"] as? String ?? "task"
                guard scope == "task" || scope == "system" else {
                    throw DataFileError(file: file, place: place, problem: "scope '\(scope)' is neither task nor system")
                }
                formulas.append(Formula(cores: f["cores"] as? [String], when: f["when"] as? String, text: text,
                                        expression: expression, scope: scope, note: f["note"] as? String, unavailable: nil))
            }
            metrics.append(Metric(name: name, unit: m["unit"] as? String ?? "", description: m["description"] as? String ?? "", formulas: formulas))
        }
        self.metrics = metrics
        // Names must be events, metrics, generic perf names or line_size.
        let metricNames = Set(metrics.map(\.name))
        for (i, m) in metrics.enumerated() {
            for (j, f) in m.formulas.enumerated() {
                for n in f.expression.names where !Self.isWellFormedName(n, metrics: metricNames) {
                    throw DataFileError(file: file, place: "metrics[\(i)] (\(m.name)).formulas[\(j)]",
                                        problem: "'\(n)' is not an EVENT_NAME, a pmu/event/, a generic perf event, a metric or line_size")
                }
            }
        }
    }

    static func isWellFormedName(_ n: String, metrics: Set<String>) -> Bool {
        n == "line_size" || metrics.contains(n) || n.contains("/") || GenericEvent.named(n) != nil ||
            (n.first?.isUppercase == true && n.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" })
    }

    public static func load(data: URL) throws(DataFileError) -> MetricCatalog {
        let url = data.appendingPathComponent("events/metrics.json")
        guard let json = FileManager.default.contents(atPath: url.path) else { throw DataFileError(file: url.path, problem: "cannot read the file") }
        return try MetricCatalog(json: json, file: url.path)
    }

    public func metric(named name: String) -> Metric? { metrics.first { $0.name == name } }
}

/// What one cluster offers for resolving metrics.
public struct MetricContext: Sendable {
    /// The core type (nil: unknown part).
    public let core: CoreType?
    /// Whether the machine is x86-64.
    public let isX86: Bool
    /// The core's event table, if one is mapped.
    public let table: EventTable?
    /// The PMU that counts the cluster, if one is registered.
    public let corePMU: PMU?
    /// All PMUs.
    public let registry: PMURegistry
    /// What may be counted.
    public let permissions: PerfPermissions
    /// Last-level line size, bytes.
    public let lineSize: Int

    public init(core: CoreType?, isX86: Bool, table: EventTable?, corePMU: PMU?, registry: PMURegistry,
                permissions: PerfPermissions, lineSize: Int) {
        self.core = core
        self.isX86 = isX86
        self.table = table
        self.corePMU = corePMU
        self.registry = registry
        self.permissions = permissions
        self.lineSize = lineSize
    }
}

/// A metric resolved for one cluster: the formula and the events to open, or why it cannot be had.
public struct ResolvedMetric: Sendable {
    /// An event a formula needs, and how to open it.
    public struct Event: Sendable, Hashable {
        /// The name as the formula writes it.
        public let name: String
        /// What to pass to `EventSpec.parse` (on the cluster's PMU for core events).
        public let spec: String
    }

    public let metric: MetricCatalog.Metric
    /// The formula that applies; nil when unavailable.
    public let formula: MetricCatalog.Formula?
    /// The events the formula (and the metrics it uses) counts.
    public let events: [Event]
    /// Why each candidate formula did not apply (empty when available).
    public let reasons: [String]
    /// The line size the formula uses, bytes.
    public let lineSize: Int

    public var isAvailable: Bool { formula != nil }

    /// One sentence: the first reason, which is usually the one that matters.
    public var reason: String? { reasons.first }

    /// Computes the metric from counted event values (by formula name) and the other resolved
    /// metrics it refers to; nil when a value is missing.
    public func evaluate(events values: [String: Double], metrics: [String: Double] = [:]) -> Double? {
        formula?.expression.evaluate { n in
            if n == "line_size" { return Double(lineSize) }
            return values[n] ?? metrics[n]
        }
    }
}

extension MetricCatalog {
    /// Resolves every metric for a cluster.
    public func resolveAll(in context: MetricContext) -> [ResolvedMetric] {
        metrics.map { resolve($0.name, in: context) }
    }

    /// Resolves one metric (and, through it, the metrics its formula names).
    public func resolve(_ name: String, in context: MetricContext) -> ResolvedMetric {
        var visiting = Set<String>()
        return resolve(name, in: context, visiting: &visiting)
    }

    private func resolve(_ name: String, in ctx: MetricContext, visiting: inout Set<String>) -> ResolvedMetric {
        guard let metric = metric(named: name) else {
            let m = Metric(name: name, unit: "", description: "", formulas: [])
            return ResolvedMetric(metric: m, formula: nil, events: [], reasons: ["no metric named '\(name)'"], lineSize: ctx.lineSize)
        }
        visiting.insert(name)
        defer { visiting.remove(name) }
        var reasons: [String] = []
        let coreName = ctx.core?.id ?? "this core"
        formulas: for f in metric.formulas {
            if let cores = f.cores {
                let applies = cores.contains("*") || (ctx.isX86 && cores.contains("x86")) || (ctx.core.map { cores.contains($0.id) } ?? false)
                if !applies { continue } // not a candidate for this core: says nothing about why not
            }
            if let why = f.unavailable {
                reasons.append(why)
                break formulas
            }
            if let when = f.when {
                let pmuName = String(when.dropFirst("pmu:".count))
                guard ctx.registry.pmu(named: pmuName) != nil else { continue }
                guard ctx.permissions.allowsPerCPU else {
                    reasons.append("\(pmuName) is registered but counts system-wide only, which needs perf_event_paranoid <= 0 or CAP_PERFMON (\(ctx.permissions.summary))")
                    continue
                }
            }
            var events: [ResolvedMetric.Event] = []
            for n in f.expression.names {
                if n == "line_size" { continue }
                // A metric's own name inside its formula is the generic perf event of that name
                // ("cycles" = cycles); any other metric name refers to that metric.
                if self.metric(named: n) != nil && !(n == name && GenericEvent.named(n) != nil) {
                    if visiting.contains(n) { reasons.append("formula '\(f.text)' refers to \(n) in a cycle"); continue formulas }
                    let sub = resolve(n, in: ctx, visiting: &visiting)
                    guard sub.isAvailable else { reasons.append("\(n) is unavailable: \(sub.reason ?? "no formula")"); continue formulas }
                    for e in sub.events where !events.contains(e) { events.append(e) }
                    continue
                }
                if n.contains("/") {
                    let parts = n.split(separator: "/")
                    guard let pmu = ctx.registry.pmu(named: String(parts[0])) else {
                        reasons.append("no PMU named \(parts[0]) is registered"); continue formulas
                    }
                    guard parts.count >= 2, pmu.alias(String(parts[1])) != nil else {
                        reasons.append("\(pmu.name) has no event \(parts.count >= 2 ? String(parts[1]) : n)"); continue formulas
                    }
                    events.append(.init(name: n, spec: n))
                    continue
                }
                if let generic = GenericEvent.named(n) {
                    if generic.type != .software && ctx.corePMU == nil && ctx.registry.corePMUs.isEmpty {
                        reasons.append(Self.noPMUReason); continue formulas
                    }
                    if let pmu = ctx.corePMU ?? (ctx.registry.corePMUs.count == 1 ? ctx.registry.corePMUs[0] : nil),
                       pmu.isARMCore, !pmu.isARMv7,
                       let code = generic.armEventCode(armv7: false) ?? generic.armCacheEventCode(armv7: false),
                       pmu.implementsCommonEvent(code) == false {
                        reasons.append(pmu.notImplementedReason(code, eventName: generic.name)); continue formulas
                    }
                    events.append(.init(name: n, spec: n))
                    continue
                }
                // An event of the core's table.
                guard let table = ctx.table else {
                    reasons.append("no event table for \(coreName) (add one to events/ and events/mapfile.csv)"); continue formulas
                }
                guard let e = table.event(named: n) else {
                    reasons.append("\(coreName) has no \(n)"); continue formulas
                }
                guard let pmu = ctx.corePMU else {
                    reasons.append(ctx.registry.corePMUs.isEmpty ? Self.noPMUReason :
                                    "no PMU is registered for this cluster's CPUs (the device tree may lack its PMU node)")
                    continue formulas
                }
                if pmu.implementsCommonEvent(e.code) == false {
                    reasons.append(pmu.notImplementedReason(e.code, eventName: n)); continue formulas
                }
                events.append(.init(name: n, spec: "\(pmu.name)/event=0x\(String(e.code, radix: 16))/"))
            }
            return ResolvedMetric(metric: metric, formula: f, events: events, reasons: [], lineSize: ctx.lineSize)
        }
        if reasons.isEmpty { reasons.append("no formula for \(coreName)") }
        return ResolvedMetric(metric: metric, formula: nil, events: [], reasons: reasons, lineSize: ctx.lineSize)
    }

    static let noPMUReason = "no core PMU is registered: hardware events cannot be counted here (a virtual machine without PMU passthrough?)"
}
