import Counters
import LinuxSystem

/// The CPUs a command runs on, chosen by `--cluster NAME`, `--cpus LIST` or, by default, the
/// biggest cluster; only CPUs this process may run on.
public struct Placement: Sendable, Equatable {
    /// What the user asked for.
    public enum Request: Sendable, Equatable {
        /// A cluster by name (little, big, or a core name), or the biggest one when nil.
        case cluster(String?)
        /// These CPUs.
        case cpus([Int])
    }

    /// The CPUs, in increasing order.
    public let cpus: [Int]
    /// The cluster they lie in (the first one they overlap with a CPU list); nil when the
    /// topology has none.
    public let cluster: Cluster?
    /// How reports name the placement: "cluster big (cpus 4-7)" or "cpus 0,2".
    public let label: String

    /// Resolves `request` on the machine under `root`: the board's topology when a board file
    /// matches (its cluster names), else the kernel's; CPUs outside `allowed` (this process's
    /// affinity) are refused (`.cpus`) or left out (`.cluster`).
    public static func resolve(_ request: Request, root: SystemRoot, allowed: CPUSet) throws(PlacementError) -> Placement {
        // The board's topology names the clusters by core; without a board file, the kernel's.
        let topology = (try? PlatformDescription.load(root: root))?.topology ?? Topology(root: root, catalog: nil, registry: PMURegistry(root: root))
        switch request {
        case .cpus(let list):
            if let outside = list.first(where: { !allowed.contains($0) }) {
                throw PlacementError("--cpus \(CPUSet(list).description): cpu\(outside) is not available to this process (allowed: \(allowed))")
            }
            return Placement(cpus: list, cluster: cluster(containing: list, in: topology), label: "cpus \(CPUSet(list).description)")
        case .cluster(let name):
            let chosen = try cluster(named: name, in: topology, root: root)
            let list = chosen.cpus.cpus.filter { allowed.contains($0) }
            if list.isEmpty { throw PlacementError("cluster \(chosen.name) (cpus \(chosen.cpus)) has no CPU available to this process") }
            return Placement(cpus: list, cluster: chosen, label: "cluster \(chosen.name) (cpus \(CPUSet(list).description))")
        }
    }

    /// The cluster `name` names in `topology` (a cluster name or core id), or its biggest cluster
    /// when nil; an error naming the clusters there are.
    public static func cluster(named name: String?, in topology: Topology, root: SystemRoot) throws(PlacementError) -> Cluster {
        if let name {
            guard let c = topology.cluster(named: name) else {
                throw PlacementError("no cluster '\(name)'; this machine has \(topology.clusters.map(\.name).joined(separator: ", "))")
            }
            return c
        }
        guard let c = topology.biggestCluster else { throw PlacementError("no CPU cluster found under \(root)") }
        return c
    }

    /// The cluster of `topology` these CPUs lie in (the first they overlap); nil when none.
    public func cluster(in topology: Topology) -> Cluster? { Self.cluster(containing: cpus, in: topology) }

    /// The first cluster of `topology` that `cpus` overlap.
    public static func cluster(containing cpus: [Int], in topology: Topology) -> Cluster? {
        topology.clusters.first { !Set($0.cpus.cpus).isDisjoint(with: cpus) }
    }
}

/// Why a placement cannot be had (bad input: a name or CPUs this machine or process does not have).
public struct PlacementError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
