import ArgumentParser
import Counters
import Foundation

/// The networks of the study socprof reproduces (ARM Compute Library graph examples).
let studyNetworks = ["alexnet", "googlenet", "mobilenet", "resnet50", "squeezenet", "squeezenet-1.1"]

/// `socprof profile NETWORK`: until the layer profiler exists, counts a stand-in workload.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Profile a network layer by layer (not built yet: counts a stand-in workload with `stat`).",
        discussion: """
            The layer profiler (per-layer counters, roofline, energy) is not part of this release. \
            Until it is, `profile NETWORK` checks the network name and counts a stand-in workload \
            (a naive fp32 matrix multiply run by socprof itself) exactly as `socprof stat` would, \
            so the counter path can be tried on a board today.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The network: \(studyNetworks.joined(separator: ", ")).", valueName: "network"))
    var network: String

    @Option(name: [.short, .customLong("event")], help: ArgumentHelp("Events to count (as `stat -e`).", valueName: "list"))
    var events: [String] = []

    @Option(help: "Matrix size of the stand-in workload (n x n x n multiply-accumulates).")
    var size: Int = 256

    func validate() throws {
        try global.validateRoot()
        guard studyNetworks.contains(network.lowercased()) else {
            let near = Suggestions.closest(to: network, in: studyNetworks)
            throw ValidationError("unknown network '\(network)'; the networks are \(studyNetworks.joined(separator: ", "))" +
                (near.isEmpty ? "." : "; did you mean '\(near[0])'?"))
        }
        guard (16...4096).contains(size) else { throw ValidationError("--size \(size) is out of range; use 16 to 4096.") }
    }

    func run() throws {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let flop = 2.0 * Double(size) * Double(size) * Double(size)
        Terminal.stderr("""
            socprof profile \(network.lowercased()): the layer profiler is not built yet; counting a stand-in \
            workload instead (fp32 matrix multiply \(size)x\(size)x\(size), \(String(format: "%.1f", flop / 1e6)) MFLOP) with `socprof stat`.
            """)
        var args: [String] = []
        if let root = global.root { args += ["--root", root] }
        for e in events { args += ["-e", e] }
        args += ["--", exe, "workload", "--size", String(size)]
        let stat = try StatCommand.parse(args)
        try stat.validate()
        try stat.run()
    }
}

/// `socprof workload`: the stand-in workload `profile` counts (hidden).
struct WorkloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload",
        abstract: "Run the stand-in workload (a naive fp32 matrix multiply) and print its checksum.",
        shouldDisplay: false
    )

    @Option(help: "Matrix size n (n x n x n multiply-accumulates).")
    var size: Int = 256

    func validate() throws {
        guard (1...4096).contains(size) else { throw ValidationError("--size \(size) is out of range; use 1 to 4096.") }
    }

    func run() throws {
        let n = size
        var a = [Float](repeating: 0, count: n * n), b = a, c = a
        for i in 0..<(n * n) {
            a[i] = Float(i % 7) * 0.25
            b[i] = Float(i % 5) * 0.5
        }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    for i in 0..<n {
                        for k in 0..<n {
                            let aik = a[i * n + k]
                            for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
                        }
                    }
                }
            }
        }
        print("checksum \(c.reduce(0, +))")
    }
}
