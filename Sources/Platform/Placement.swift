import Counters

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
        let kernel = Topology(root: root, catalog: nil, registry: PMURegistry(root: root))
        let board = (try? PlatformDescription.load(root: root))?.topology
        switch request {
        case .cpus(let list):
            if let outside = list.first(where: { !allowed.contains($0) }) {
                throw PlacementError("--cpus \(CPUList.format(list)): cpu\(outside) is not available to this process (allowed: \(allowed))")
            }
            let placement = Placement(cpus: list, cluster: nil, label: "cpus \(CPUList.format(list))")
            return Placement(cpus: list, cluster: placement.cluster(in: board ?? kernel), label: placement.label)
        case .cluster(let name):
            let found: Cluster?
            if let name {
                found = board?.cluster(named: name) ?? kernel.cluster(named: name)
                if found == nil {
                    throw PlacementError("no cluster '\(name)'; this machine has \((board ?? kernel).clusters.map(\.name).joined(separator: ", "))")
                }
            } else {
                found = board?.biggestCluster ?? kernel.biggestCluster
            }
            guard let chosen = found else { throw PlacementError("no CPU cluster found under \(root)") }
            let list = chosen.cpus.cpus.filter { allowed.contains($0) }
            if list.isEmpty { throw PlacementError("cluster \(chosen.name) (cpus \(chosen.cpus)) has no CPU available to this process") }
            return Placement(cpus: list, cluster: chosen, label: "cluster \(chosen.name) (cpus \(CPUList.format(list)))")
        }
    }

    /// The cluster of `topology` these CPUs lie in (the first they overlap); nil when none.
    public func cluster(in topology: Topology) -> Cluster? {
        topology.clusters.first { !Set($0.cpus.cpus).isDisjoint(with: cpus) }
    }
}

/// Why a placement cannot be had (bad input: a name or CPUs this machine or process does not have).
public struct PlacementError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
