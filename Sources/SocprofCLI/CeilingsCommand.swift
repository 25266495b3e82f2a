import ArgumentParser
import Counters
import Foundation
import Kernels
import Platform

/// Measured roofline ceilings of one cluster, as `socprof ceilings` writes and `profile` reads them.
struct CeilingsReport: Codable {
    struct Datasheet: Codable {
        let peak_gflops_fp32: Double?
        let dram_bandwidth_gbs: Double?
        let source: String
    }
    var schema = "socprof.ceilings"
    var schema_version = 1
    let board: String
    let cluster: String
    let cpus: [Int]
    let threads: Int
    let max_freq_khz: Int64?
    /// Best of the trials, GFLOP/s, all threads.
    let peak_gflops_fp32: Double
    /// The hand-written C FMA loop in the same run, GFLOP/s.
    let reference_fma_gflops: Double
    /// Read bandwidth per level, GB/s, all threads.
    let bandwidth_gbs: [String: Double]
    /// Copy bandwidth (read + write bytes) at the DRAM working set, GB/s.
    let dram_copy_gbs: Double
    /// The sweep: bytes per thread and read GB/s.
    let sweep: [Ceilings.Point]
    /// Working set per thread used for each level, bytes.
    let level_bytes_per_thread: [String: Int64]
    let datasheet: Datasheet
    /// What could not be measured and why; nil when nothing (and in files kept before notes existed).
    var notes: [String]? = nil

    /// Where ceilings are kept: $XDG_CACHE_HOME/socprof/ceilings (or ~/.cache/...).
    static func directory() -> URL { CacheDirectory.url("ceilings") }

    static func key(board: String, cluster: String, maxKHz: Int64?, threads: Int, cpus: [Int]) -> String {
        "\(board)-\(cluster)-cpus\(CPUList.format(cpus).replacingOccurrences(of: ",", with: "_"))-\(maxKHz.map { "\($0 / 1000)MHz" } ?? "unknown-freq")-\(threads)t.json"
    }

    /// Whether the figures can place layers under a roofline (finite, above 0).
    var usable: Bool {
        peak_gflops_fp32.isFinite && peak_gflops_fp32 > 0 && (bandwidth_gbs["DRAM"].map { $0.isFinite && $0 > 0 } ?? false)
    }
}

/// `socprof ceilings`: peak fp32 FMA throughput and bandwidth per memory level, measured.
struct CeilingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceilings",
        abstract: "Measure a cluster's roofline ceilings: peak fp32 GFLOP/s and L1/L2/(L3)/DRAM bandwidth from a working-set sweep.",
        discussion: """
            Results are kept per board, cluster, frequency and thread count under ~/.cache/socprof/ceilings \
            (XDG_CACHE_HOME), where `socprof profile` finds them. The board file's datasheet figures are shown beside.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var placement: PlacementOptions
    @Option(help: ArgumentHelp("Board file (name or path).", valueName: "name|file")) var board: String?
    @Flag(help: "Print JSON.") var json = false
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Also write the JSON here (atomically).", valueName: "file"))
    var output: String?
    @Option(help: ArgumentHelp("Largest working set per thread, MiB (the DRAM point).", valueName: "mib")) var maxMib: Int = 256

    func validate() throws {
        try global.validateRoot()
        guard (8...8192).contains(maxMib) else { throw ValidationError("--max-mib \(maxMib) must be 8 to 8192.") }
    }

    func run() throws {
        let root = global.systemRoot
        let platform: PlatformDescription
        do { platform = try PlatformDescription.load(root: root, board: board) } catch { throw fail(error.description) }
        let (cpus, label) = try placement.resolve(root: root)
        let cluster = platform.topology.clusters.first { !Set($0.cpus.cpus).isDisjoint(with: cpus) }
        let pool = try pinnedPool(threads: placement.threads ?? cpus.count, cpus: cpus)
        let threads = pool.count

        if !json { Terminal.stderr("socprof ceilings: \(label), \(threads) thread(s): peak FMA ...") }
        let peak = Ceilings.peakGFLOPS(pool: pool)
        let reference = Ceilings.referencePeakGFLOPS(pool: pool)

        // Working sets: a sweep of powers of two, 16 KiB to --max-mib per thread, and no more than
        // a quarter of the machine's memory in all (an Odroid has 2 GiB for 8 threads).
        let physical = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
        var maxBytes = maxMib << 20
        while maxBytes > 16 << 20 && Int64(maxBytes) * Int64(threads) > physical / 4 { maxBytes /= 2 }
        if maxBytes < maxMib << 20 && !json {
            Terminal.stderr("socprof ceilings: --max-mib \(maxMib) x \(threads) threads exceeds a quarter of memory; using \(maxBytes >> 20) MiB per thread")
        }
        let buffers = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: maxBytes / 4) }
        defer { for b in buffers { b.deallocate() } }
        for b in buffers { b.initialize(repeating: 1, count: maxBytes / 4) }
        var sweep: [Ceilings.Point] = []
        var size = 16 << 10
        while size <= maxBytes {
            if !json { Terminal.stderr("  read bandwidth, \(size >> 10) KiB per thread ...") }
            sweep.append(Ceilings.Point(bytesPerThread: Int64(size), readGBs: Ceilings.readBandwidth(pool: pool, buffers: buffers, bytesPerThread: size)))
            size *= 2
        }
        // Levels: half of each cache's share per thread; DRAM: the largest set.
        let sheetCluster = cluster.flatMap { platform.boardCluster(for: $0) }
        let shares = CacheShares(cluster: cluster, board: sheetCluster, cpus: cpus, threads: threads)
        var levels = shares.bytesPerThread
        let fromBoard = shares.fromBoard
        var notes: [String] = []
        if !fromBoard.isEmpty, let name = platform.board?.name {
            notes.append("the kernel gives no size for \(fromBoard.joined(separator: ", ")); taken from boards/\(name).json")
        }
        let unsized = ["L1", "L2"].filter { levels[$0] == nil }
        if !unsized.isEmpty {
            notes.append("no \(unsized.joined(separator: " or ")) bandwidth: the kernel gives no cache sizes (no 'size' in /sys/devices/system/cpu/cpu*/cache/index*/) and no board file names them; the sweep is measured, only DRAM is placed (--board FILE with l1d_kib and l2_kib adds them)")
        }
        levels["DRAM"] = sweep.last?.bytesPerThread ?? Int64(maxBytes) // the largest set measured
        func bandwidth(at bytes: Int64) -> Double {
            // The sweep point nearest below (a plateau is flat around it).
            (sweep.last { $0.bytesPerThread <= bytes } ?? sweep[0]).readGBs
        }
        let bandwidths = levels.mapValues { bandwidth(at: $0) }
        let copy = Ceilings.copyBandwidth(pool: pool, buffers: buffers, bytesPerThread: maxBytes)

        let datasheetPeak = sheetCluster.flatMap { s -> Double? in
            guard let f = s.fp32_flops_per_cycle?.value, let khz = s.max_freq_khz?.value else { return nil }
            return f * Double(khz) * 1e3 * Double(min(threads, s.cpus.count)) / 1e9
        }
        let report = CeilingsReport(
            board: platform.board?.name ?? "unknown", cluster: cluster?.name ?? "cpus-\(CPUList.format(cpus))", cpus: cpus, threads: threads,
            max_freq_khz: cluster?.maxKHz, peak_gflops_fp32: peak, reference_fma_gflops: reference, bandwidth_gbs: bandwidths,
            dram_copy_gbs: copy, sweep: sweep, level_bytes_per_thread: levels,
            datasheet: .init(peak_gflops_fp32: datasheetPeak, dram_bandwidth_gbs: platform.board?.dram?.theoretical_bandwidth_gbs?.value,
                             source: platform.board.map { "boards/\($0.name).json" } ?? "no board file"),
            notes: notes.isEmpty ? nil : notes)
        let enc = ReportJSON.encoder()
        let text = String(decoding: try enc.encode(report), as: UTF8.self) + "\n"
        let dir = CeilingsReport.directory()
        let file = dir.appendingPathComponent(CeilingsReport.key(board: report.board, cluster: report.cluster, maxKHz: report.max_freq_khz, threads: threads, cpus: cpus))
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try Terminal.writeAtomically(text, to: file.path)
        } catch {
            Terminal.stderr("socprof ceilings: cannot keep the result in \(file.path): \(error.localizedDescription)")
        }
        if let output {
            do { try Terminal.writeAtomically(text, to: output) } catch { throw fail("cannot write -o '\(output)': \(error.localizedDescription)", code: 1) }
        }
        if json { print(text, terminator: ""); return }
        print("\(label), \(threads) thread(s), board \(report.board):")
        print(String(format: "  peak fp32 FMA: %.1f GFLOP/s (hand-written C loop in the same run: %.1f; ratio %.2f)%@", peak, reference, peak / reference,
                     datasheetPeak.map { String(format: "; datasheet %.1f", $0) } ?? ""))
        for level in ["L1", "L2", "L3", "DRAM"] {
            guard let bw = bandwidths[level], let b = levels[level] else { continue }
            print(String(format: "  %@ read bandwidth: %.1f GB/s (working set %@ per thread)", level.rightPad(4), bw,
                         b >= 1 << 20 ? "\(b >> 20) MiB" : "\(b >> 10) KiB"))
        }
        print(String(format: "  DRAM copy bandwidth: %.1f GB/s (read + write)%@", copy,
                     report.datasheet.dram_bandwidth_gbs.map { String(format: "; datasheet DRAM %.1f GB/s", $0) } ?? ""))
        print("  sweep (per thread -> GB/s): " + sweep.map { "\($0.bytesPerThread >= 1 << 20 ? "\($0.bytesPerThread >> 20)M" : "\($0.bytesPerThread >> 10)K") \(String(format: "%.0f", $0.readGBs))" }.joined(separator: ", "))
        for note in notes { print("  note: \(note)") }
        print("  kept in \(file.path)")
    }
}
