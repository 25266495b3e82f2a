import Counters
import Foundation
import Kernels
import LinuxSystem
import Platform

extension CeilingsReport {
    /// Measures the roofline ceilings of `pool`'s threads (pinned to `cpus`, in `cluster` of
    /// `platform`): peak fp32 FMA throughput (and the hand-written C loop's, in the same run), the
    /// read-bandwidth sweep up to `maxBytesPerThread`, each cache level's bandwidth at half its
    /// share per thread, DRAM's at the largest set, the copy bandwidth, and the board file's
    /// figures beside them. `progress` gets a line before each step.
    public static func measure(pool: ThreadPool, platform: PlatformDescription, cluster: Cluster?, cpus: [Int], maxBytesPerThread: Int,
                               progress: (String) -> Void = { _ in }) -> CeilingsReport {
        let threads = pool.count
        progress("peak FMA ...")
        let peak = Ceilings.peakGFLOPS(pool: pool)
        let reference = Ceilings.referencePeakGFLOPS(pool: pool)
        let sweep = Ceilings.sweep(pool: pool, maxBytesPerThread: maxBytesPerThread) { size in
            progress("read bandwidth, \(size >> 10) KiB per thread ...")
        }
        // Levels: half of each cache's share per thread; DRAM: the largest set.
        let sheetCluster = cluster.flatMap { platform.boardCluster(for: $0) }
        let shares = CacheShares(cluster: cluster, board: sheetCluster, cpus: cpus, threads: threads)
        var levels = shares.bytesPerThread
        var notes: [String] = []
        if !shares.fromBoard.isEmpty, let name = platform.board?.name {
            notes.append("the kernel gives no size for \(shares.fromBoard.joined(separator: ", ")); taken from boards/\(name).json")
        }
        let unsized = ["L1", "L2"].filter { levels[$0] == nil }
        if !unsized.isEmpty {
            notes.append("no \(unsized.joined(separator: " or ")) bandwidth: the kernel gives no cache sizes (no 'size' in /sys/devices/system/cpu/cpu*/cache/index*/) and no board file names them; the sweep is measured, only DRAM is placed (--board FILE with l1d_kib and l2_kib adds them)")
        }
        levels["DRAM"] = sweep.points.last?.bytesPerThread ?? Int64(maxBytesPerThread) // the largest set measured
        let bandwidths = levels.compactMapValues { Ceilings.bandwidth(at: $0, in: sweep.points) }
        let datasheetPeak = sheetCluster.flatMap { s -> Double? in
            guard let f = s.fp32_flops_per_cycle?.value, let khz = s.max_freq_khz?.value else { return nil }
            return f * Double(khz) * 1e3 * Double(min(threads, s.cpus.count)) / 1e9
        }
        return CeilingsReport(
            board: platform.board?.name ?? "unknown", cluster: cluster?.name ?? "cpus-\(CPUSet(cpus).description)", cpus: cpus, threads: threads,
            max_freq_khz: cluster?.maxKHz, peak_gflops_fp32: peak, reference_fma_gflops: reference, bandwidth_gbs: bandwidths,
            dram_copy_gbs: sweep.copyGBs, sweep: sweep.points, level_bytes_per_thread: levels,
            datasheet: .init(peak_gflops_fp32: datasheetPeak, dram_bandwidth_gbs: platform.board?.dram?.theoretical_bandwidth_gbs?.value,
                             source: platform.board.map { "boards/\($0.name).json" } ?? "no board file"),
            notes: notes.isEmpty ? nil : notes)
    }
}
