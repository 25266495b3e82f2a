import Foundation
import Kernels
import Profiler
import Reports
import Testing

/// The ceilings' arithmetic and store without measuring anything.
@Suite("ceilings: working sets, levels, the store")
struct CeilingsStoreTests {
    static func report(peak: Double = 100, dram: Double = 10) -> CeilingsReport {
        CeilingsReport(board: "odroid-xu3", cluster: "big", cpus: [4, 5], threads: 2, max_freq_khz: 2_000_000, peak_gflops_fp32: peak,
                       reference_fma_gflops: 98, bandwidth_gbs: ["L1": 200, "DRAM": dram], dram_copy_gbs: 8,
                       sweep: [.init(bytesPerThread: 16 << 10, readGBs: 200), .init(bytesPerThread: 1 << 20, readGBs: 40), .init(bytesPerThread: 64 << 20, readGBs: dram)],
                       level_bytes_per_thread: ["L1": 16 << 10, "DRAM": 64 << 20],
                       datasheet: .init(peak_gflops_fp32: 128, dram_bandwidth_gbs: 14.9, source: "boards/odroid-xu3.json"))
    }

    @Test("the working set is halved until every thread's fits in a quarter of memory, never below 16 MiB")
    func workingSet() {
        // 2 GiB: a quarter is 512 MiB; 8 threads x 256 MiB is too much, x 64 MiB fits.
        #expect(Ceilings.workingSetLimit(requested: 256 << 20, threads: 8, physical: 2 << 30) == 64 << 20)
        #expect(Ceilings.workingSetLimit(requested: 256 << 20, threads: 1, physical: 64 << 30) == 256 << 20)
        #expect(Ceilings.workingSetLimit(requested: 256 << 20, threads: 64, physical: 1 << 30) == 16 << 20)
    }

    @Test("a level's bandwidth is the sweep point at or nearest below its working set")
    func levels() {
        let points = Self.report().sweep
        #expect(Ceilings.bandwidth(at: 16 << 10, in: points) == 200)
        #expect(Ceilings.bandwidth(at: 512 << 10, in: points) == 200)
        #expect(Ceilings.bandwidth(at: 1 << 20, in: points) == 40)
        #expect(Ceilings.bandwidth(at: 1 << 30, in: points) == 10)
        #expect(Ceilings.bandwidth(at: 1 << 10, in: points) == 200, "below the smallest set: the smallest point")
        #expect(Ceilings.bandwidth(at: 1 << 20, in: []) == nil)
    }

    @Test("saved ceilings come back as the roofline; a file socprof would not write, or none, says so")
    func store() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("socprof-ceilings-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = CeilingsReport.key(board: "odroid-xu3", cluster: "big", maxKHz: 2_000_000, threads: 2, cpus: [4, 5])
        #expect(key == "odroid-xu3-big-cpus4-5-2000MHz-2t.json")
        guard case .missing = CeilingsStore.lookup(key: key, directory: dir) else { Issue.record("an empty store found something"); return }
        let file = try CeilingsStore.save(Self.report(), key: key, directory: dir)
        guard case .found(let r) = CeilingsStore.lookup(key: key, directory: dir) else { Issue.record("saved ceilings not found"); return }
        #expect(r.peak_gflops == 100 && r.dram_gbs == 10 && r.source == "measured ceilings \(file.path)")
        try CeilingsStore.save(Self.report(dram: 0), key: key, directory: dir)
        guard case .unusable = CeilingsStore.lookup(key: key, directory: dir) else { Issue.record("a DRAM bandwidth of 0 was used"); return }
        try CeilingsStore.save(Self.report(peak: 2e9), key: key, directory: dir)
        guard case .unusable = CeilingsStore.lookup(key: key, directory: dir) else { Issue.record("a peak of 2e9 GFLOP/s was used"); return }
        try Data("{\"schema\": \"other\"}".utf8).write(to: file)
        guard case .unusable(let path) = CeilingsStore.lookup(key: key, directory: dir) else { Issue.record("another schema was used"); return }
        #expect(path == file.path)
    }

    @Test("the text report: each figure once, with the datasheet beside it")
    func text() {
        let t = CeilingsText.render(Self.report(), label: "cluster big (cpus 4-5)", keptIn: "/tmp/x.json")
        #expect(t.hasPrefix("cluster big (cpus 4-5), 2 thread(s), board odroid-xu3:\n"))
        #expect(t.contains("peak fp32 FMA: 100.0 GFLOP/s (hand-written C loop in the same run: 98.0; ratio 1.02); datasheet 128.0"))
        #expect(t.contains("  L1   read bandwidth: 200.0 GB/s (working set 16 KiB per thread)"))
        #expect(t.contains("  DRAM read bandwidth: 10.0 GB/s (working set 64 MiB per thread)"))
        #expect(t.contains("DRAM copy bandwidth: 8.0 GB/s (read + write); datasheet DRAM 14.9 GB/s"))
        #expect(t.contains("sweep (per thread -> GB/s): 16K 200, 1M 40, 64M 10"))
        #expect(t.hasSuffix("  kept in /tmp/x.json\n"))
    }
}
