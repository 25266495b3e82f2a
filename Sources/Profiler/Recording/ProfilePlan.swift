import Counters
import Foundation
import Platform

/// What `profile` counts: the platform's metrics for the cluster (all, or those asked for), the
/// events their formulas need, the events given with `-e`, and which of them are counted
/// system-wide (a PMU that counts only per CPU, such as a memory controller's).
public struct ProfilePlan: Sendable {
    /// The metrics to evaluate per layer.
    public var metrics: [ResolvedMetric] = []
    /// Counted on the pool's threads: task-clock, page-faults and context-switches, then the
    /// metrics' events, then `-e`'s, each once.
    public var counted: [ResolvedEvent] = []
    /// Counted system-wide at the layer boundaries.
    public var systemWide: [ResolvedEvent] = []
    /// What the report should say about the plan.
    public var notes: [String] = []

    /// The software events every profile counts.
    public static let softwareEvents = ["task-clock", "page-faults", "context-switches"]

    /// The plan for `cluster` of `platform` (nil: software events and `-e` only). `metricNames`
    /// (nil: every metric) must all be in the platform's catalog; `events` are `-e` lists.
    /// - Throws: `ProfilePlanError` for an unknown metric (naming the known ones) or an event that
    ///   does not parse or resolve on this machine.
    public static func make(platform: PlatformDescription, cluster: Cluster?, metricNames: Set<String>?, events: [String]) throws(ProfilePlanError) -> ProfilePlan {
        var plan = ProfilePlan()
        var specs = softwareEvents
        if let cluster {
            let known = platform.metrics.metrics.map(\.name)
            if let unknown = metricNames?.sorted().first(where: { !known.contains($0) }) {
                throw ProfilePlanError("unknown metric '\(unknown)'; the metrics are \(known.joined(separator: ", "))")
            }
            plan.metrics = platform.resolvedMetrics(for: cluster).filter { metricNames?.contains($0.metric.name) ?? true }
            for m in plan.metrics where m.isAvailable {
                for e in m.events where !specs.contains(e.spec) { specs.append(e.spec) }
            }
        }
        let resolver = EventResolver(registry: platform.registry)
        // The metrics' events one by one; each -e is a list, as stat's.
        let parsed: [EventSpec]
        do {
            parsed = try specs.map { s throws(EventSpecError) in try EventSpec.parse(s) } + events.flatMap { l throws(EventSpecError) in try EventSpec.parseList(l) }
        } catch { throw ProfilePlanError("\(error)") }
        for spec in parsed {
            let resolved: [ResolvedEvent]
            do { resolved = try resolver.resolve(spec, corePMU: cluster?.pmu) } catch { throw ProfilePlanError(error.description) }
            for e in resolved where !plan.counted.contains(where: { $0.name == e.name }) && !plan.systemWide.contains(where: { $0.name == e.name }) {
                if e.systemWideOnly { plan.systemWide.append(e) } else { plan.counted.append(e) }
            }
        }
        if !plan.systemWide.isEmpty {
            plan.notes.append("counted system-wide (every task and bus master, not only this network): " + plan.systemWide.map(\.name).joined(separator: ", "))
        }
        return plan
    }
}

/// An unknown metric or an event that cannot be counted here (bad input).
public struct ProfilePlanError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
