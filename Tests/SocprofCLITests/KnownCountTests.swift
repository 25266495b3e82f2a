import Counters
import Foundation
import Testing
import TestSupport

/// socprof's instruction counts checked against programs whose count is known by construction
/// (Tests/Fixtures/programs, written by scripts/arm/known-count.py: a two-instruction loop run
/// N times). Where instructions cannot be counted, the test checks that socprof says so, and why.
@Suite("Instructions counted against a known count", .serialized)
struct KnownCountTests {
    static var hostProgram: String? {
        #if arch(arm64)
        return "loop-aarch64"
        #elseif arch(x86_64)
        return "loop-x86_64"
        #else
        return nil
        #endif
    }

    /// Whether this machine can count instructions; when it cannot, the reason socprof must give.
    static var instructionsUnavailable: String? {
        let registry = PMURegistry(root: .live)
        if registry.corePMUs.isEmpty { return "no hardware PMU" }
        if registry.corePMUs.contains(where: { $0.implementsCommonEvent(0x08) == false }) { return "does not implement" }
        return nil
    }

    @Test("stat -e instructions:u of a program with a known count: within 0.5 %")
    func statCountsAKnownProgram() throws {
        let name = try #require(Self.hostProgram, "no known-count program for this architecture")
        let dir = Fixtures.directory.appendingPathComponent("programs")
        let counts = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("counts.json"))) as? [String: [String: Int]]
        let expected = Double(try #require(counts?[name]?["instructions"]))
        let r = try Socprof.run(["stat", "-x,", "-e", "instructions:u", "--", dir.appendingPathComponent(name).path])
        #expect(r.status == 0, "\(r.stderr)")
        let row = try #require(r.stderr.split(separator: "\n").first { $0.contains(",instructions:u,") }, "\(r.stderr)")
        let value = String(row.split(separator: ",", omittingEmptySubsequences: false)[0])
        if let why = Self.instructionsUnavailable {
            #expect(value == "<not supported>", "\(row)")
            // The reason is in the JSON report (perf's CSV has no room for it).
            let j = try Socprof.run(["stat", "--json", "-e", "instructions:u", "--", dir.appendingPathComponent(name).path])
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any], "\(j.stdout) \(j.stderr)")
            let event = try #require((doc["events"] as? [[String: Any]])?.first)
            #expect(event["status"] as? String == "not_supported" && event["value"] is NSNull)
            #expect((event["reason"] as? String)?.contains(why) == true, "\(event)")
        } else {
            let counted = try #require(Double(value), "\(row)")
            #expect(abs(counted - expected) <= 0.005 * expected, "counted \(counted), known \(expected)")
        }
    }

    /// Each layer's user-space instructions in two separate profiles of the same network on one
    /// thread: the kernels do the same work on the same shapes, so the counts must agree.
    @Test("profile: instructions per layer agree run to run within 0.5 %")
    func profileInstructionsRepeat() throws {
        func run() throws -> [(String, [String: Any])] {
            let r = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "1", "--warmup", "1", "--repeat", "1", "--metrics", "cycles",
                                     "-e", "instructions:u", "--no-energy", "--idle-baseline", "0", "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let layers = try #require(doc["layers"] as? [[String: Any]])
            return try layers.map { l in
                let events = try #require(l["events"] as? [String: Any])
                return (l["name"] as? String ?? "?", try #require(events["instructions:u"] as? [String: Any]))
            }
        }
        let a = try run(), b = try run()
        #expect(a.count == b.count && a.count > 10)
        if let why = Self.instructionsUnavailable {
            for (_, e) in a {
                #expect(e["source"] as? String == "unavailable" && e["value"] is NSNull)
                #expect((e["detail"] as? String)?.contains(why) == true, "\(e)")
            }
            return
        }
        for ((name, x), (_, y)) in zip(a, b) {
            #expect(x["source"] as? String == "measured" && y["source"] as? String == "measured", "\(name): \(x) \(y)")
            let u = try #require(x["value"] as? Double), v = try #require(y["value"] as? Double)
            // 0.5 %, plus what QEMU counts as user instructions around a timer interrupt: about
            // 9,400 per tick (seen as whole multiples of it, in layers of every size), and a layer
            // of this network catches at most two ticks. A board's exclude_kernel has no such leak.
            #expect(u > 0 && abs(u - v) <= 0.005 * max(u, v) + 20_000, "\(name): \(u) and \(v) instructions")
        }
    }

    /// Whether the live PMU is an ARM one that counts cycles and instructions (the emulated arm64
    /// board under -icount, or an arm64 board): raw 0x11 and 0x08 mean CPU_CYCLES and INST_RETIRED.
    static var armCountsInstructions: Bool {
        #if arch(arm64) || arch(arm)
        return instructionsUnavailable == nil
        #else
        return false
        #endif
    }

    /// Nine hardware events on an ARM PMU with 6 + 1 counters: in passes every count is exact; with
    /// --allow-multiplexing they share the counters and are scaled by enabled / running.
    @Test("per-layer IPC from the layer's own counts; multiplexed estimates within 10 % of the exact passes",
          .enabled(if: armCountsInstructions, "needs an ARM PMU that counts cycles and instructions (the emulated arm64 board under -icount, or a board)"))
    func metricsAndMultiplexing() throws {
        func layers(_ extra: [String]) throws -> [String: [String: Any]] {
            let r = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "1", "--warmup", "1", "--repeat", "1", "--metrics", "cycles,instructions,ipc",
                                     "-e", "cycles:u,instructions:u,cycles:k,instructions:k,r11,r08,r11:u", "--no-energy", "--idle-baseline", "0",
                                     "--format", "json"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let list = try #require(doc["layers"] as? [[String: Any]])
            return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as? String ?? "?", $0) })
        }
        func value(_ l: [String: Any], _ group: String, _ name: String) -> Double? {
            ((l[group] as? [String: Any])?[name] as? [String: Any])?["value"] as? Double
        }
        let exact = try layers([]), mux = try layers(["--allow-multiplexing"])
        var compared = 0
        for (name, l) in exact {
            // The metrics are evaluated on this layer's own counts of their events, counted together:
            // ipc is the instructions metric over the cycles metric.
            let mc = try #require(value(l, "metrics", "cycles"), "\(name): no cycles metric")
            let mi = try #require(value(l, "metrics", "instructions"), "\(name): no instructions metric")
            let ipc = try #require(value(l, "metrics", "ipc"), "\(name): no ipc")
            #expect(abs(ipc - mi / mc) <= 1e-9 * ipc, "\(name): ipc \(ipc), instructions / cycles \(mi / mc)")
            let c = try #require(value(l, "events", "r11"), "\(name): no r11")
            // Scaled estimates of a layer long enough for the counters to take turns.
            guard c > 2_000_000, let m = mux[name].flatMap({ value($0, "events", "r11") }) else { continue }
            compared += 1
            #expect(abs(m - c) <= 0.1 * c, "\(name): \(m) cycles multiplexed, \(c) counted in passes")
        }
        #expect(compared >= 5, "too few long layers to compare")
    }
}
