import Counters
import LinuxSystem
import Platform

/// Where a network runs in an experiment: a CPU cluster, or a group of CPUs given by hand (two
/// one-CPU "clusters" on a machine with one cluster). A column of the sweep's table; a component of
/// a co-execution.
public struct ComputeUnit: Sendable, Hashable, Encodable {
    /// "little", "big", or "cpus 0-1" for a group given by hand.
    public let name: String
    /// The CPUs its threads are pinned to (those available to this process).
    public let cpus: [Int]
    /// Threads to run (one per CPU by default).
    public let threads: Int
    /// The core's name ("Cortex-A15"), if known.
    public let core: String?
    /// The cpufreq policies of its CPUs.
    public let domains: [FrequencyDomain]
    /// The power sensors that measure it: the board file's for its cluster, else every sensor (the
    /// whole board), else none.
    public let sensors: [PowerSensor]
    /// Whether `sensors` measure only this unit's cluster (false: the whole board or a rail shared
    /// with others).
    public let sensorsAreOwn: Bool

    public init(name: String, cpus: [Int], threads: Int, core: String?, domains: [FrequencyDomain], sensors: [PowerSensor], sensorsAreOwn: Bool) {
        self.name = name
        self.cpus = cpus
        self.threads = threads
        self.core = core
        self.domains = domains
        self.sensors = sensors
        self.sensorsAreOwn = sensorsAreOwn
    }

    enum CodingKeys: String, CodingKey { case name, cpus, threads, core, sensors, sensorsAreOwn = "sensors_are_own" }

    /// In reports: the name, CPUs, threads, core and the sensors' labels.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(CPUSet(cpus).description, forKey: .cpus)
        try c.encode(threads, forKey: .threads)
        try c.encode(core, forKey: .core)
        try c.encode(sensors.map(\.label), forKey: .sensors)
        try c.encode(sensorsAreOwn, forKey: .sensorsAreOwn)
    }

    /// A unit for a cluster (or for `cpus` of it): its available CPUs, its policies and sensors.
    /// - Parameters:
    ///   - cpus: the CPUs to use (nil: every CPU of the cluster this process may run on).
    ///   - threads: nil for one per CPU.
    ///   - name: the unit's name (nil: the cluster's).
    public static func make(cluster: Cluster?, cpus: [Int], threads: Int?, name: String, sensors all: [PowerSensor]) -> ComputeUnit {
        let own = cluster.map { c in all.filter { $0.cluster == c.name } } ?? []
        let domains = (cluster?.frequencyDomains ?? []).filter { d in !Set(d.cpus.cpus).isDisjoint(with: cpus) }
        return ComputeUnit(name: name, cpus: cpus, threads: threads ?? cpus.count, core: cluster?.core?.name, domains: domains,
                           sensors: own.isEmpty ? all : own, sensorsAreOwn: !own.isEmpty)
    }
}
