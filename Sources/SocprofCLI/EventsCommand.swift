import ArgumentParser
import Counters
import Foundation
import Platform

/// `socprof events`: a core's event table and the metric formulas resolved for it.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List a cluster's (or a core type's) events and its resolved metric formulas.",
        discussion: "Without --cluster or --core, every cluster of this machine. Tables and formulas: docs/event-tables.md."
    )

    @OptionGroup var options: PlatformOptions

    @Option(help: ArgumentHelp("A cluster of this machine (little, big, or a core name).", valueName: "name"))
    var cluster: String?

    @Option(help: ArgumentHelp("A core type from events/ (cortex-a53, cortex-a76, ...), whether or not this machine has it.", valueName: "name"))
    var core: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        try options.global.validateRoot()
        if cluster != nil && core != nil { throw ValidationError("--cluster and --core both choose what to list; give one.") }
    }

    struct Entry: Encodable {
        let cluster: String?
        let core: String?
        let pmu: String?
        let table: String?
        let events: [EventTable.Event]
        let metrics: [String: InfoDocument.MetricInfo]
    }

    func run() throws {
        let p = try options.load()
        var entries: [Entry] = []
        func metricInfos(_ ms: [ResolvedMetric]) -> [String: InfoDocument.MetricInfo] {
            Dictionary(uniqueKeysWithValues: ms.map { ($0.metric.name, InfoDocument.MetricInfo($0)) })
        }
        if let core {
            let id = core.lowercased()
            guard let tableName = p.mapfile.tables.first(where: { $0.hasSuffix("/\(id)") }) else {
                let known = p.mapfile.tables.map { String($0.split(separator: "/").last!) }
                let near = Suggestions.closest(to: core, in: known)
                throw fail("no event table for core '\(core)'; tables exist for \(known.joined(separator: ", "))" + (near.isEmpty ? "" : "; did you mean '\(near[0])'?"))
            }
            let data = DataDirectory.locate()!
            let table: EventTable
            do { table = try EventTable.load(tableName, data: data) } catch { throw fail(error.description) }
            // A stand-in PMU, to show the formulas as they resolve on a board with this core.
            let pmu = PMU(name: "<\(id) pmu>", type: PerfEventType(rawValue: 0), cpus: nil, cpumask: nil, formats: [:], aliases: [:])
            let registry = PMURegistry(root: p.root, pmus: [pmu])
            let ctx = MetricContext(core: CoreType(id: id, name: id), isX86: false, table: table, corePMU: pmu, registry: registry,
                                    permissions: p.permissions, lineSize: p.metrics.lineSizeDefault)
            entries.append(Entry(cluster: nil, core: id, pmu: nil, table: tableName, events: table.events, metrics: metricInfos(p.metrics.resolveAll(in: ctx))))
        } else {
            var clusters = p.topology.clusters
            if let cluster {
                guard let c = p.topology.cluster(named: cluster) else {
                    let names = p.topology.clusters.map(\.name)
                    throw fail("no cluster '\(cluster)'; this machine has \(names.joined(separator: ", "))")
                }
                clusters = [c]
            }
            for c in clusters {
                entries.append(Entry(cluster: c.name, core: c.core?.id, pmu: c.pmu?.name, table: p.eventTable(for: c)?.name,
                                     events: p.eventTable(for: c)?.events ?? [], metrics: metricInfos(p.resolvedMetrics(for: c))))
            }
        }
        if json {
            let enc = ReportJSON.encoder()
            print(String(decoding: try enc.encode(["clusters": entries]), as: UTF8.self))
            return
        }
        for e in entries {
            print("\(e.cluster.map { "Cluster \($0): " } ?? "")\(e.core ?? "unknown core")\(e.pmu.map { " on \($0)" } ?? "")" + (e.table.map { " (events/\($0).json)" } ?? " (no event table)"))
            for ev in e.events { print("  " + String(format: "0x%02llx", ev.code).rightPad(6) + " " + ev.name.rightPad(26) + " " + ev.description) }
            print("  metrics:")
            for name in p.metrics.metrics.map(\.name) {
                guard let m = e.metrics[name] else { continue }
                print("    \(name.rightPad(17)) " + (m.available ? "= \(m.formula!)  [\(m.events!.joined(separator: ", "))]" : "unavailable: \(m.reason ?? "")"))
            }
            print("")
        }
    }
}
