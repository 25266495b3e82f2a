import ArgumentParser
import Counters
import Foundation
import LinuxSystem
import Platform

/// `socprof list`: the events socprof can name on this machine, as `perf list`.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List generic events and the PMUs (with their event aliases) registered under the root."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws { try global.validateRoot() }

    struct PMUEntry: Encodable {
        let name: String
        let type: UInt32
        let core: Bool
        let cpus: [Int]?
        let cpumask: [Int]?
        let formats: [String: String]
        let events: [String: String]
    }

    struct Listing: Encodable {
        let root: String
        let generic: [String]
        let pmus: [PMUEntry]
        let problems: [String]
        let libpfm4_pmus: [String]
    }

    func run() throws {
        let registry = PMURegistry(root: global.systemRoot)
        let listing = Listing(
            root: registry.root.path,
            generic: GenericEvent.allNames,
            pmus: registry.pmus.map { p in
                PMUEntry(name: p.name, type: p.type.rawValue, core: p.isCore, cpus: p.cpus, cpumask: p.cpumask,
                         formats: p.formats.mapValues(\.description),
                         events: Dictionary(uniqueKeysWithValues: p.aliases.values.map { ($0.name, $0.terms) }))
            },
            problems: registry.problems,
            libpfm4_pmus: Pfm.activePMUs()
        )
        if json {
            let enc = ReportJSON.encoder()
            print(String(decoding: try enc.encode(listing), as: UTF8.self))
            return
        }
        print("Generic events (perf's names; hardware ones need a PMU):")
        for chunk in stride(from: 0, to: listing.generic.count, by: 6) {
            print("  " + listing.generic[chunk..<min(chunk + 6, listing.generic.count)].joined(separator: ", "))
        }
        print("\nPMUs under \(registry.root.absolute(PMURegistry.devicesPath)):")
        if registry.pmus.isEmpty { print("  (none)") }
        for p in registry.pmus {
            var line = "  \(p.name) (type \(p.type.rawValue)"
            if let c = p.cpus { line += ", cpus \(CPUSet(c).description)" }
            if let c = p.cpumask { line += ", cpumask \(CPUSet(c).description)" }
            line += p.isCore ? ", core PMU)" : ")"
            print(line)
            if !p.formats.isEmpty {
                print("    format: " + p.formats.keys.sorted().map { "\($0)=\(p.formats[$0]!)" }.joined(separator: " "))
            }
            let names = p.aliases.values.map(\.name).sorted()
            if !names.isEmpty { print("    events: " + names.map { "\(p.name)/\($0)/" }.joined(separator: " ")) }
        }
        if registry.pmus.filter(\.isCore).isEmpty {
            print("\nNo core PMU is registered: hardware events (cycles, instructions, caches) cannot be counted here (a VM without PMU passthrough?).")
        }
        for problem in registry.problems { print("warning: \(problem)") }
        print("\nlibpfm4 \(Pfm.version) PMUs on this machine (pmu::EVENT names): \(listing.libpfm4_pmus.joined(separator: ", "))")
    }
}
