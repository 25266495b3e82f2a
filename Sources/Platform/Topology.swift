import Counters
import Foundation
import LinuxSystem

/// One cache as `/sys/devices/system/cpu/cpuN/cache/indexK/` describes it.
public struct CacheInfo: Hashable, Sendable, Codable {
    /// 1, 2, 3.
    public let level: Int
    /// "Data", "Instruction" or "Unified".
    public let type: String
    /// Size in bytes; nil when the kernel does not say (older 32-bit kernels).
    public let sizeBytes: Int64?
    /// Line size in bytes, if known.
    public let lineBytes: Int?
    /// Associativity, if known.
    public let ways: Int?
    /// The CPUs sharing it.
    public let sharedCPUs: CPUSet

    /// "L1d", "L1i", "L2", "L3".
    public var label: String { "L\(level)" + (type == "Data" ? "d" : type == "Instruction" ? "i" : "") }
}

/// One cpufreq policy (a frequency domain).
public struct FrequencyDomain: Hashable, Sendable, Codable {
    /// The CPUs that share the clock (`related_cpus`).
    public let cpus: CPUSet
    /// Hardware limits, kHz (`cpuinfo_min_freq`, `cpuinfo_max_freq`).
    public let minKHz: Int64?
    public let maxKHz: Int64?
    /// The current frequency, kHz (`scaling_cur_freq`).
    public let currentKHz: Int64?
    /// The limits the governor works within, kHz.
    public let scalingMinKHz: Int64?
    public let scalingMaxKHz: Int64?
    /// `scaling_governor`.
    public let governor: String?
    /// `scaling_available_frequencies`, kHz, ascending.
    public let availableKHz: [Int64]
}

/// One logical CPU.
public struct CPU: Hashable, Sendable {
    public let id: Int
    /// The core type; nil for an ARM part not in `events/cores.csv`.
    public let core: CoreType?
    /// The MIDR (ARM only).
    public let midr: MIDR?
    /// `topology/cluster_id` (-1 or nil where the kernel does not know).
    public let clusterID: Int?
    /// `topology/physical_package_id`.
    public let packageID: Int?
    /// `cpu_capacity` (1024 = the biggest core), if the kernel exports it.
    public let capacity: Int?
    /// Its cpufreq policy, if any.
    public let frequencyDomain: FrequencyDomain?
    /// Its caches, L1 first.
    public let caches: [CacheInfo]
}

/// CPUs of one core type: a big.LITTLE cluster, or all cores of a homogeneous machine.
public struct Cluster: Hashable, Sendable {
    /// "little", "big" (from the board file), else the core identifier ("cortex-a53"), or
    /// "cluster<N>" when unknown.
    public var name: String
    /// The core type, if known.
    public let core: CoreType?
    /// Its CPUs.
    public let cpus: CPUSet
    /// Its cpufreq policies (DynamIQ clusters may have several).
    public let frequencyDomains: [FrequencyDomain]
    /// The caches of its first CPU, L1 first.
    public let caches: [CacheInfo]
    /// `cpu_capacity` of its CPUs (the largest), if known.
    public let capacity: Int?
    /// The MIDR of its first CPU (ARM).
    public let midr: MIDR?
    /// The core PMU that counts on it, if one is registered.
    public let pmu: PMU?

    /// Highest `cpuinfo_max_freq` of its policies, kHz.
    public var maxKHz: Int64? { frequencyDomains.compactMap(\.maxKHz).max() }

    /// The last-level cache line size, bytes, if sysfs says.
    public var lineBytes: Int? { caches.filter { $0.type != "Instruction" }.max { $0.level < $1.level }?.lineBytes ?? caches.first?.lineBytes }

    /// The largest cache level (2 or 3) it has.
    public var lastLevel: Int? { caches.map(\.level).max() }
}

/// The CPUs of a machine, read under a root.
public struct Topology: Sendable {
    /// "arm64", "armv7" or "x86_64" (from cpuinfo), or "unknown".
    public let architecture: String
    /// Online CPUs.
    public let online: CPUSet
    /// Every online CPU.
    public let cpus: [CPU]
    /// The clusters, ordered by capacity then first CPU (LITTLE first).
    public var clusters: [Cluster]
    /// The x86 `model name`, or the 32-bit ARM `Hardware` line.
    public let machineName: String?
    /// The x86 `vendor_id` (GenuineIntel, AuthenticAMD), or the ARM implementer's name.
    public let vendor: String?
    /// Files that were present but unreadable, as "path: problem".
    public let problems: [String]

    static let cpuPath = "sys/devices/system/cpu"

    /// Reads the topology under `root`; `catalog` names ARM cores, `registry` maps clusters to PMUs.
    public init(root: SystemRoot, catalog: CoreCatalog?, registry: PMURegistry) {
        var problems: [String] = []
        let cpuinfo = CPUInfoFile(text: root.read("proc/cpuinfo") ?? "")
        var online: CPUSet
        if let text = root.read("\(Self.cpuPath)/online") {
            do { online = try CPUSet(parsing: text) } catch {
                problems.append("\(root.absolute("\(Self.cpuPath)/online")): \(error)")
                online = []
            }
        } else {
            online = CPUSet(root.list(Self.cpuPath).compactMap { $0.hasPrefix("cpu") ? Int($0.dropFirst(3)) : nil })
        }
        if online.isEmpty { online = CPUSet(cpuinfo.processors.keys) }

        let first = cpuinfo.processors.values.first ?? [:]
        let isX86 = first["vendor_id"] != nil
        let arch: String
        if isX86 { arch = "x86_64" }
        else if root.exists("\(Self.cpuPath)/cpu\(online.cpus.first ?? 0)/regs/identification/midr_el1") || first["CPU architecture"] == "8" { arch = "arm64" }
        else if first["CPU architecture"] != nil { arch = "armv7" }
        else { arch = "unknown" }
        architecture = arch
        machineName = isX86 ? first["model name"] : cpuinfo.machine["Hardware"]
        let implementers: [UInt32: String] = [0x41: "Arm", 0x42: "Broadcom", 0x43: "Cavium", 0x46: "Fujitsu", 0x48: "HiSilicon",
                                              0x4E: "NVIDIA", 0x50: "APM", 0x51: "Qualcomm", 0x61: "Apple", 0xC0: "Ampere", 0x6D: "Microsoft"]
        vendor = isX86 ? first["vendor_id"] : (cpuinfo.midr(cpu: online.cpus.first ?? 0)?.implementer).flatMap { implementers[$0] }

        var cpus: [CPU] = []
        var noMIDR: [Int] = []
        for id in online {
            let base = "\(Self.cpuPath)/cpu\(id)"
            var midr: MIDR? = nil
            if let v = root.readTrimmed("\(base)/regs/identification/midr_el1") {
                let hex = v.lowercased().hasPrefix("0x") ? String(v.dropFirst(2)) : v
                if let raw = UInt64(hex, radix: 16) { midr = MIDR(rawValue: UInt32(truncatingIfNeeded: raw)) }
                else { problems.append("\(root.absolute("\(base)/regs/identification/midr_el1")): '\(v)' is not hex") }
            }
            if midr == nil { midr = cpuinfo.midr(cpu: id) }
            var core: CoreType? = nil
            if isX86 {
                core = .x86(model: cpuinfo.processors[id]?["model name"] ?? first["model name"] ?? "x86-64")
            } else if let midr {
                core = catalog?.core(for: midr)
            }
            let clusterID = root.readInt("\(base)/topology/cluster_id").map { Int($0) }
            // cpu_capacity that is there but not a number is said, never read as "unknown" quietly.
            var capacity: Int? = nil
            if let text = root.readTrimmed("\(base)/cpu_capacity") {
                if let v = Int(text), v >= 0, v <= 1 << 20 { capacity = v } else {
                    problems.append("\(root.absolute("\(base)/cpu_capacity")): '\(text)' is not a capacity (0 to 1024); cpu\(id)'s capacity is unknown, so the biggest cluster is chosen by frequency")
                }
            }
            let domain = Self.frequencyDomain(root: root, base: "\(base)/cpufreq", problems: &problems)
            if !isX86 && midr == nil { noMIDR.append(id) }
            cpus.append(CPU(
                id: id, core: core, midr: midr,
                clusterID: clusterID == -1 ? nil : clusterID,
                packageID: root.readInt("\(base)/topology/physical_package_id").map { Int($0) },
                capacity: capacity,
                frequencyDomain: domain,
                caches: Self.caches(root: root, base: "\(base)/cache", problems: &problems)))
        }
        if !noMIDR.isEmpty {
            problems.append("cpus \(CPUSet(noMIDR).description): no MIDR in /proc/cpuinfo or regs/identification/midr_el1, so their core is unknown; each cpufreq policy (else each cluster_id) is taken as one cluster")
        }
        self.cpus = cpus
        self.online = online
        // CPUs of one policy read the same files: each problem once.
        var seenProblems = Set<String>()
        self.problems = problems.filter { seenProblems.insert($0).inserted }

        // Group by core type (and package on x86, where one type spans sockets).
        var groups: [[CPU]] = []
        for cpu in cpus {
            // A CPU of unknown type is never merged with another kind: without a MIDR, CPUs of one
            // cpufreq policy (else one cluster_id) make a cluster.
            let key = { (c: CPU) -> String in
                if c.core == nil && c.midr == nil && !isX86 {
                    return "?|" + (c.frequencyDomain.map { "policy \($0.cpus)" } ?? "cluster \(c.clusterID ?? -1)")
                }
                return "\(c.core?.id ?? c.midr?.description ?? "?")|\(isX86 ? c.packageID ?? 0 : 0)"
            }
            if let i = groups.firstIndex(where: { key($0[0]) == key(cpu) }) { groups[i].append(cpu) } else { groups.append([cpu]) }
        }
        var clusters = groups.map { members -> Cluster in
            let set = CPUSet(members.map(\.id))
            var domains: [FrequencyDomain] = []
            for m in members { if let d = m.frequencyDomain, !domains.contains(d) { domains.append(d) } }
            let pmu = registry.corePMUs.first { p in p.cpus.map { !Set($0).isDisjoint(with: set.cpus) } ?? false }
                ?? (registry.corePMUs.count == 1 && registry.corePMUs[0].cpus == nil ? registry.corePMUs[0] : nil)
            return Cluster(name: members[0].core?.id ?? "cluster", core: members[0].core, cpus: set,
                           frequencyDomains: domains, caches: members[0].caches,
                           capacity: members.compactMap(\.capacity).max(), midr: members[0].midr, pmu: pmu)
        }
        // Smallest cores first; among equals, the cluster whose first CPU is highest first.
        clusters.sort { a, b in
            let ka: (Int, Int64, Int) = (a.capacity ?? 0, a.maxKHz ?? 0, -(a.cpus.cpus.first ?? 0))
            let kb: (Int, Int64, Int) = (b.capacity ?? 0, b.maxKHz ?? 0, -(b.cpus.cpus.first ?? 0))
            return ka < kb
        }
        // Unique names.
        var seen: [String: Int] = [:]
        for i in clusters.indices {
            let n = clusters[i].name
            seen[n, default: 0] += 1
            if clusters.filter({ $0.name == n }).count > 1 { clusters[i].name = "\(n)-\(seen[n]! - 1)" }
        }
        self.clusters = clusters
    }

    /// A cpufreq policy; a file that is there but does not hold a frequency is a problem named by
    /// path (that figure is then unknown), never a silent nil.
    static func frequencyDomain(root: SystemRoot, base: String, problems: inout [String]) -> FrequencyDomain? {
        // cpufreq prints related_cpus space-separated ("0 1 2 3"), not as a cpulist.
        guard root.exists(base), let related = root.read("\(base)/related_cpus") ?? root.read("\(base)/affected_cpus") else { return nil }
        guard let cpus = try? CPUSet(parsing: related.split(whereSeparator: \.isWhitespace).joined(separator: ",")) else {
            problems.append("\(root.absolute("\(base)/related_cpus")): '\(related.trimmingCharacters(in: .whitespacesAndNewlines))' is not a list of CPUs; this policy is ignored")
            return nil
        }
        // Messages name the policy's own directory (cpuN/cpufreq is a link to it on most kernels),
        // so that the CPUs of one policy report a bad file once.
        let shown = URL(fileURLWithPath: root.absolute(base)).resolvingSymlinksInPath().path
        func khz(_ name: String) -> Int64? {
            guard let text = root.readTrimmed("\(base)/\(name)") else { return nil }
            if let v = Int64(text), v > 0, v < 100_000_000 { return v }
            problems.append("\(shown)/\(name): '\(text)' is not a frequency in kHz; it is taken as unknown")
            return nil
        }
        var available: [Int64] = []
        if let text = root.readTrimmed("\(base)/scaling_available_frequencies") {
            for word in text.split(whereSeparator: \.isWhitespace) {
                if let v = Int64(word), v > 0, v < 100_000_000 { available.append(v) } else {
                    problems.append("\(shown)/scaling_available_frequencies: '\(word)' is not a frequency in kHz; left out")
                }
            }
        }
        return FrequencyDomain(
            cpus: cpus, minKHz: khz("cpuinfo_min_freq"), maxKHz: khz("cpuinfo_max_freq"),
            currentKHz: khz("scaling_cur_freq"), scalingMinKHz: khz("scaling_min_freq"),
            scalingMaxKHz: khz("scaling_max_freq"), governor: root.readTrimmed("\(base)/scaling_governor"),
            availableKHz: Array(Set(available)).sorted())
    }

    /// Parses sysfs cache sizes: "32K", "2048K", "3M", "512" (bytes).
    public static func parseSize(_ text: String) -> Int64? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        guard let last = t.last else { return nil }
        let mult: Int64 = last == "K" ? 1024 : last == "M" ? 1024 * 1024 : last == "G" ? 1024 * 1024 * 1024 : 1
        let digits = mult == 1 ? t : String(t.dropLast())
        return Int64(digits).map { $0 * mult }
    }

    static func caches(root: SystemRoot, base: String, problems: inout [String]) -> [CacheInfo] {
        var out: [CacheInfo] = []
        for index in root.list(base) where index.hasPrefix("index") {
            let dir = "\(base)/\(index)"
            guard let level = root.readInt("\(dir)/level"), let type = root.readTrimmed("\(dir)/type") else { continue }
            let shared = (try? CPUSet(parsing: root.read("\(dir)/shared_cpu_list") ?? "")) ?? []
            var size: Int64? = nil
            if let s = root.readTrimmed("\(dir)/size") {
                size = parseSize(s)
                if size == nil { problems.append("\(root.absolute("\(dir)/size")): '\(s)' is not a size") }
            }
            out.append(CacheInfo(level: Int(level), type: type, sizeBytes: size,
                                 lineBytes: root.readInt("\(dir)/coherency_line_size").map { Int($0) },
                                 ways: root.readInt("\(dir)/ways_of_associativity").map { Int($0) }, sharedCPUs: shared))
        }
        return out.sorted { ($0.level, $0.type) < ($1.level, $1.type) }
    }

    /// The cluster with the most capacity (the biggest cores), then the most CPUs.
    public var biggestCluster: Cluster? {
        clusters.max { a, b in
            let ka: (Int, Int64, Int) = (a.capacity ?? 0, a.maxKHz ?? 0, a.cpus.count)
            let kb: (Int, Int64, Int) = (b.capacity ?? 0, b.maxKHz ?? 0, b.cpus.count)
            return ka < kb
        }
    }

    /// The cluster named `name` (cluster name or core id, case-insensitive).
    public func cluster(named name: String) -> Cluster? {
        let n = name.lowercased()
        return clusters.first { $0.name.lowercased() == n } ?? clusters.first { $0.core?.id == n }
    }
}
