import LinuxSystem
/// Matches parsed events against this machine's PMUs (and libpfm4's tables).
///
/// On a heterogeneous machine (one core PMU per core type: big.LITTLE, DynamIQ, Intel hybrid) a
/// generic hardware event, a raw code or a core alias is opened once per core PMU, each with that
/// PMU's type: an event opened on the wrong PMU type silently counts 0 while the thread runs on
/// the other cluster. With `corePMU` set (counting one cluster), it is opened on that PMU only.
public struct EventResolver: Sendable {
    /// The PMUs of the machine.
    public let registry: PMURegistry

    public init(registry: PMURegistry) { self.registry = registry }

    /// Resolves one event. `corePMU` restricts core events to one PMU (a cluster's).
    public func resolve(_ spec: EventSpec, corePMU: PMU? = nil) throws(EventResolutionError) -> [ResolvedEvent] {
        var events: [ResolvedEvent]
        switch spec.kind {
        case .generic(let g):
            events = try resolveGeneric(g, text: spec.text, corePMU: corePMU)
        case .raw(let code):
            events = try onCorePMUs(corePMU, text: spec.text, generic: nil) { pmu in
                var e = ResolvedEvent(name: spec.text, pmuName: pmu?.name, type: pmu?.type ?? .raw, config: code)
                e.cpus = pmu?.cpus
                return e
            }
        case .alias(let name):
            events = try resolveBareAlias(name, text: spec.text, corePMU: corePMU)
        case .pmu(let pmuName, let terms):
            guard let pmu = registry.pmu(named: pmuName) else {
                throw EventResolutionError(event: spec.text, problem: "no PMU named '\(pmuName)' under \(registry.root.absolute(PMURegistry.devicesPath))",
                                           suggestions: Suggestions.closest(to: pmuName, in: registry.pmus.map(\.name)))
            }
            events = [try encode(terms: terms, on: pmu, text: spec.text)]
        case .pfm(let text):
            events = [try placePfm(try Pfm.resolve(text), text: text, corePMU: corePMU)]
        }
        for i in events.indices {
            if spec.levels != nil { events[i].levels = spec.levels }
            events[i].pinned = spec.pinned
            // On a heterogeneous machine an event on one core PMU counts only while the thread
            // runs on that PMU's CPUs.
            if registry.isHeterogeneous, let p = events[i].pmuName, registry.pmu(named: p)?.isCore == true {
                events[i].clusterBound = true
            }
        }
        return events
    }

    /// Resolves a whole `-e` list, keeping the order.
    public func resolve(_ specs: [EventSpec], corePMU: PMU? = nil) throws(EventResolutionError) -> [ResolvedEvent] {
        var all: [ResolvedEvent] = []
        for s in specs { all += try resolve(s, corePMU: corePMU) }
        return all
    }

    func resolveGeneric(_ g: GenericEvent, text: String, corePMU: PMU?) throws(EventResolutionError) -> [ResolvedEvent] {
        if g.type == .software {
            var e = ResolvedEvent(name: text, pmuName: "software", type: .software, config: g.config)
            if g.isClock { e.unit = "ns" }
            return [e]
        }
        let placeOnPMU = corePMU != nil || registry.corePMUs.count > 1
        if placeOnPMU, let arm = (corePMU.map { [$0] } ?? registry.corePMUs).first(where: \.isARMCore),
           g.armEventCode(armv7: arm.isARMv7) == nil && g.armCacheEventCode(armv7: arm.isARMv7) == nil {
            // Older arm_pmu kernels ignore the extended type and would put the event on whichever
            // cluster's PMU accepts it first: refuse rather than count the wrong cluster.
            throw EventResolutionError(event: text, problem: "\(g.name) has no architectural ARM event to place on one cluster's PMU; name the event on each PMU instead, as \(arm.name)/event=0x../")
        }
        return try onCorePMUs(corePMU, text: text, generic: g) { pmu -> ResolvedEvent in
            guard let pmu else {
                var e = ResolvedEvent(name: text, pmuName: nil, type: g.type, config: g.config)
                e.generic = g.name
                return e
            }
            var e: ResolvedEvent
            if pmu.isARMCore, let code = g.armEventCode(armv7: pmu.isARMv7) ?? g.armCacheEventCode(armv7: pmu.isARMv7) {
                // The architectural code on that PMU's type: works on every kernel.
                e = ResolvedEvent(name: text, pmuName: pmu.name, type: pmu.type, config: code)
            } else {
                // Extended type (Linux 5.13+ on x86 hybrid): PMU type in bits 32-63.
                e = ResolvedEvent(name: text, pmuName: pmu.name, type: g.type, config: g.config | UInt64(pmu.type.rawValue) << 32)
            }
            e.cpus = pmu.cpus
            e.generic = g.name
            return e
        }
    }

    /// libpfm4 encodes core events as PERF_TYPE_RAW; on a heterogeneous machine that would land
    /// on whichever core PMU takes it first, so place it on the PMU of the core libpfm4 named
    /// (`arm_ac15` -> `armv7_cortex_a15`; libpfm4's A57 table also serves the A72).
    func placePfm(_ event: ResolvedEvent, text: String, corePMU: PMU?) throws(EventResolutionError) -> ResolvedEvent {
        guard event.type == .raw, corePMU != nil || registry.isHeterogeneous else { return event }
        var e = event
        if let corePMU {
            e.pmuName = corePMU.name
            e.type = corePMU.type
            e.cpus = corePMU.cpus
            return e
        }
        let prefix = text.firstRange(of: "::").map { String(text[..<$0.lowerBound]) } ?? text
        let digits = String(prefix.reversed().prefix { $0.isNumber }.reversed())
        let candidates = registry.corePMUs.filter { p in
            guard !digits.isEmpty else { return false }
            let n = p.name.lowercased()
            return n.hasSuffix("_a\(digits)") || (digits == "57" && n.hasSuffix("_a72"))
        }
        guard candidates.count == 1, let pmu = candidates.first else {
            throw EventResolutionError(event: text, problem: "libpfm4's \(prefix) events cannot be placed on one cluster of this machine (core PMUs: \(registry.corePMUs.map(\.name).joined(separator: ", "))); use pmu/event=0x../ instead")
        }
        e.pmuName = pmu.name
        e.type = pmu.type
        e.cpus = pmu.cpus
        return e
    }

    /// One event per core PMU on a heterogeneous machine (named `pmu/event/`), or on the
    /// chosen one, or a single PMU-less event on a homogeneous machine.
    func onCorePMUs(_ chosen: PMU?, text: String, generic: GenericEvent?, _ make: (PMU?) -> ResolvedEvent) throws(EventResolutionError) -> [ResolvedEvent] {
        if let chosen { return [make(chosen)] }
        let cores = registry.corePMUs
        guard cores.count > 1 else { return [make(nil)] }
        return cores.map { pmu in
            var e = make(pmu)
            e.name = "\(pmu.name)/\(text)/"
            return e
        }
    }

    func resolveBareAlias(_ name: String, text: String, corePMU: PMU?) throws(EventResolutionError) -> [ResolvedEvent] {
        let candidates = corePMU.map { [$0] } ?? registry.pmus
        let matches = candidates.filter { $0.alias(name) != nil }
        if matches.isEmpty {
            var known = GenericEvent.allNames
            for p in candidates { known += p.aliases.values.map(\.name) }
            let hint: String
            if registry.pmus.isEmpty {
                hint = "it is not a generic event, and no PMU is registered under \(registry.root.absolute(PMURegistry.devicesPath))"
            } else {
                hint = "it is neither a generic event nor an alias in any PMU's events/ directory (`socprof list` shows them)"
            }
            throw EventResolutionError(event: text, problem: hint, suggestions: Suggestions.closest(to: name, in: known))
        }
        // Prefer core PMUs; an alias that only an uncore PMU has is opened there.
        let cores = matches.filter(\.isCore)
        let chosen = cores.isEmpty ? matches : cores
        var out: [ResolvedEvent] = []
        for pmu in chosen {
            var e = try encode(terms: [EventSpec.Term(name: name, value: nil)], on: pmu, text: text)
            if chosen.count > 1 { e.name = "\(pmu.name)/\(text)/" }
            out.append(e)
        }
        return out
    }

    /// Encodes `pmu/terms/` using the PMU's format fields and aliases.
    func encode(terms: [EventSpec.Term], on pmu: PMU, text: String, depth: Int = 0) throws(EventResolutionError) -> ResolvedEvent {
        var e = ResolvedEvent(name: text, pmuName: pmu.name, type: pmu.type, config: 0)
        e.cpus = pmu.cpus ?? pmu.cpumask
        e.systemWideOnly = pmu.isUncore
        var words: [UInt64] = [0, 0, 0, 0]
        func parseValue(_ v: String, term: String) throws(EventResolutionError) -> UInt64 {
            let lower = v.lowercased()
            let parsed = lower.hasPrefix("0x") ? UInt64(lower.dropFirst(2), radix: 16) : UInt64(lower)
            guard let parsed else {
                throw EventResolutionError(event: text, problem: "value '\(v)' of term '\(term)' is not a number (decimal or 0x hex)")
            }
            return parsed
        }
        for term in terms {
            let key = term.name.lowercased()
            if key == "name" {
                if let v = term.value { e.name = v }
                continue
            }
            if let word = ["config": 0, "config1": 1, "config2": 2, "config3": 3][key] {
                guard let v = term.value else { throw EventResolutionError(event: text, problem: "term '\(term.name)' needs a value") }
                words[word] |= try parseValue(v, term: term.name)
                continue
            }
            if let field = pmu.formats[term.name] ?? pmu.formats[key] {
                let value = try term.value.map { v throws(EventResolutionError) in try parseValue(v, term: term.name) } ?? 1
                guard let bits = field.encode(value) else {
                    throw EventResolutionError(event: text, problem: "value \(term.value ?? "1") of '\(term.name)' does not fit in \(pmu.name)'s field \(field) (\(field.width) bits)")
                }
                words[field.word] |= bits
                continue
            }
            if term.value == nil, let alias = pmu.alias(term.name), depth == 0 {
                var inner: [EventSpec.Term] = []
                for part in alias.terms.split(separator: ",") {
                    let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    let name = String(kv[0].trimmed())
                    let value = kv.count == 2 ? String(kv[1].trimmed()) : nil
                    guard !name.isEmpty, value.map({ !$0.isEmpty }) ?? true else {
                        throw EventResolutionError(event: text, problem: "\(pmu.name)'s alias '\(term.name)' reads '\(alias.terms)', which is not term=value,... (the file sys/bus/event_source/devices/\(pmu.name)/events/\(term.name))")
                    }
                    inner.append(EventSpec.Term(name: name, value: value))
                }
                if inner.isEmpty {
                    throw EventResolutionError(event: text, problem: "\(pmu.name)'s alias '\(term.name)' is empty (the file sys/bus/event_source/devices/\(pmu.name)/events/\(term.name))")
                }
                let sub = try encode(terms: inner, on: pmu, text: text, depth: depth + 1)
                words[0] |= sub.config
                words[1] |= sub.config1
                words[2] |= sub.config2
                if let s = alias.scale { e.scale = s }
                if let u = alias.unit { e.unit = u }
                continue
            }
            let known = Array(pmu.formats.keys) + pmu.aliases.values.map(\.name) + ["config", "config1", "config2", "name"]
            throw EventResolutionError(event: text, problem: "\(pmu.name) has no format field or event named '\(term.name)'",
                                       suggestions: Suggestions.closest(to: term.name, in: known))
        }
        if words[3] != 0 {
            throw EventResolutionError(event: text, problem: "\(pmu.name) places this term in config3, which socprof does not set yet")
        }
        e.config = words[0]
        e.config1 = words[1]
        e.config2 = words[2]
        return e
    }
}

/// Near matches for a mistyped name (Levenshtein distance, case-insensitive).
public enum Suggestions {
    /// Up to `limit` names from `candidates` within a distance that scales with the length.
    public static func closest(to name: String, in candidates: [String], limit: Int = 3) -> [String] {
        let target = Array(name.lowercased())
        let maxDistance = max(2, target.count / 3)
        var scored: [(String, Int)] = []
        var seen = Set<String>()
        for c in candidates where seen.insert(c.lowercased()).inserted {
            let lc = c.lowercased()
            let d = distance(target, Array(lc))
            if d <= maxDistance || (target.count >= 4 && lc.contains(String(target))) { scored.append((c, d)) }
        }
        return scored.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(limit).map(\.0)
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
