import CM5Ops
import Foundation
import Platform
import Networks

/// gem5's pseudo-instructions, for cutting a network's run into one stats dump per layer when
/// socprof runs inside gem5 (`socprof run --m5ops`). Outside gem5 the instruction is undefined:
/// the CPU raises SIGILL, which is caught and reported, and nothing else happens.
enum M5Ops {
    /// Whether this build has the instructions (aarch64 and 32-bit ARM only).
    static var compiled: Bool { socprof_m5ops_compiled() != 0 }

    enum Op: Int32 {
        case resetStats = 0x40, dumpStats = 0x41, dumpResetStats = 0x42

        /// The instruction word, for messages.
        var word: String {
            #if arch(arm)
            String(format: "0x%08x", 0xee00_0110 | (UInt32(rawValue) << 16))
            #else
            String(format: "0x%08x", 0xff00_0110 | (UInt32(rawValue) << 16))
            #endif
        }
    }

    /// Executes `op`; false when the CPU refused it (not gem5).
    @discardableResult
    static func call(_ op: Op) -> Bool { socprof_m5op(op.rawValue) == 0 }

    /// Why `--m5ops` cannot be used here, or nil: a build without m5ops, or a CPU that raises
    /// SIGILL on the first one (a reset, harmless either way).
    static func unusableReason() -> String? {
        guard compiled else {
            return "--m5ops needs an aarch64 or 32-bit ARM build of socprof (gem5's ARM m5op instructions); this build is for another architecture"
        }
        guard call(.resetStats) else {
            return "--m5ops: this CPU raised SIGILL on gem5's m5op instruction \(Op.resetStats.word) (m5_reset_stats): it is not a CPU simulated by gem5. Use --m5ops only inside gem5 (docs/calibration.md)"
        }
        return nil
    }

    /// Before an `--m5ops` run: stops with the reason when the m5ops cannot run here, else writes
    /// the manifest of the dumps the run will make to `path` (atomically).
    static func prepare(network: Network, threads: Int, iterations: Int, manifest path: String) throws -> Manifest {
        if let why = unusableReason() { throw fail(why) }
        let manifest = Manifest(network: network, threads: threads, iterations: iterations)
        let enc = ReportJSON.encoder()
        do { try Terminal.writeAtomically(String(decoding: try enc.encode(manifest), as: UTF8.self) + "\n", to: path) } catch {
            throw fail("cannot write --m5ops-manifest '\(path)': \(error.localizedDescription)", code: 1)
        }
        return manifest
    }

    /// The order of the dumps an `--m5ops` run makes, for `socprof calibrate --manifest`.
    struct Manifest: Codable {
        struct Entry: Codable {
            /// 0-based dump number in stats.txt.
            let dump: Int
            /// 0-based timed image.
            let iteration: Int
            let layer: String
            let kind: String
            let macs: Int64
        }
        var schema = "socprof.m5ops-manifest"
        var schema_version = 1
        let network: String
        let threads: Int
        let iterations: Int
        /// What the run did with the stats, in words.
        let protocol_description: String
        let dumps: [Entry]

        init(network: Network, threads: Int, iterations: Int) {
            self.network = network.name
            self.threads = threads
            self.iterations = iterations
            protocol_description = "m5_reset_stats before the first layer of each timed image, m5_dump_reset_stats after each layer; gem5 adds its own dump at the end of the simulation"
            let costs = network.costs()
            var entries: [Entry] = []
            for it in 0..<iterations {
                for i in 1..<network.layers.count {
                    entries.append(Entry(dump: entries.count, iteration: it, layer: network.layers[i].name,
                                         kind: network.layers[i].kind.name, macs: costs[i].macs))
                }
            }
            dumps = entries
        }
    }
}
