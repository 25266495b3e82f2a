import Counters
import Foundation
import Kernels
import LinuxSystem
import Platform
import ProfileModel

/// Measured roofline ceilings of one cluster, as `socprof ceilings` writes and `profile` reads them.
public struct CeilingsReport: Codable, Sendable {
    /// The board file's figures for the same threads, for comparison.
    public struct Datasheet: Codable, Sendable {
        /// FLOP/cycle x maximum frequency x threads, GFLOP/s.
        public let peak_gflops_fp32: Double?
        /// Theoretical DRAM bandwidth, GB/s.
        public let dram_bandwidth_gbs: Double?
        public let source: String
        public init(peak_gflops_fp32: Double?, dram_bandwidth_gbs: Double?, source: String) {
            self.peak_gflops_fp32 = peak_gflops_fp32
            self.dram_bandwidth_gbs = dram_bandwidth_gbs
            self.source = source
        }
    }
    public var schema = "socprof.ceilings"
    public var schema_version = 1
    public let board: String
    public let cluster: String
    public let cpus: [Int]
    public let threads: Int
    public let max_freq_khz: Int64?
    /// Best of the trials, GFLOP/s, all threads.
    public let peak_gflops_fp32: Double
    /// The hand-written C FMA loop in the same run, GFLOP/s.
    public let reference_fma_gflops: Double
    /// Read bandwidth per level, GB/s, all threads.
    public let bandwidth_gbs: [String: Double]
    /// Copy bandwidth (read + write bytes) at the DRAM working set, GB/s.
    public let dram_copy_gbs: Double
    /// The sweep: bytes per thread and read GB/s.
    public let sweep: [Ceilings.Point]
    /// Working set per thread used for each level, bytes.
    public let level_bytes_per_thread: [String: Int64]
    public let datasheet: Datasheet
    /// What could not be measured and why; nil when nothing (and in files kept before notes existed).
    public var notes: [String]? = nil

    public init(board: String, cluster: String, cpus: [Int], threads: Int, max_freq_khz: Int64?, peak_gflops_fp32: Double,
                reference_fma_gflops: Double, bandwidth_gbs: [String: Double], dram_copy_gbs: Double, sweep: [Ceilings.Point],
                level_bytes_per_thread: [String: Int64], datasheet: Datasheet, notes: [String]? = nil) {
        self.board = board
        self.cluster = cluster
        self.cpus = cpus
        self.threads = threads
        self.max_freq_khz = max_freq_khz
        self.peak_gflops_fp32 = peak_gflops_fp32
        self.reference_fma_gflops = reference_fma_gflops
        self.bandwidth_gbs = bandwidth_gbs
        self.dram_copy_gbs = dram_copy_gbs
        self.sweep = sweep
        self.level_bytes_per_thread = level_bytes_per_thread
        self.datasheet = datasheet
        self.notes = notes
    }

    /// Where ceilings are kept: $XDG_CACHE_HOME/socprof/ceilings (or ~/.cache/...).
    public static func directory() -> URL { CacheDirectory.url("ceilings") }

    /// The file name of the ceilings of `threads` threads on `cpus` of a cluster at a maximum
    /// frequency (kHz) on a board.
    public static func key(board: String, cluster: String, maxKHz: Int64?, threads: Int, cpus: [Int]) -> String {
        "\(board)-\(cluster)-cpus\(CPUSet(cpus).description.replacingOccurrences(of: ",", with: "_"))-\(maxKHz.map { "\($0 / 1000)MHz" } ?? "unknown-freq")-\(threads)t.json"
    }

    /// Whether the figures can place layers under a roofline (finite, above 0).
    public var usable: Bool {
        peak_gflops_fp32.isFinite && peak_gflops_fp32 > 0 && (bandwidth_gbs["DRAM"].map { $0.isFinite && $0 > 0 } ?? false)
    }
}

/// The ceilings kept between runs: `socprof ceilings` saves them, `profile` places its layers
/// under them.
public enum CeilingsStore {
    /// What was found for a key.
    public enum Lookup {
        /// Usable ceilings, as the roofline to place layers under.
        case found(Roofline)
        /// A file of another schema or version, or with figures no measurement gives: not used.
        case unusable(path: String)
        /// Nothing kept for this key.
        case missing
    }

    /// Saves `report` under its key in `directory`; returns the file written.
    @discardableResult
    public static func save(_ report: CeilingsReport, key: String, directory: URL = CeilingsReport.directory()) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(key)
        let data = try ReportJSON.encoder().encode(report)
        try (data + Data("\n".utf8)).write(to: file, options: .atomic)
        return file
    }

    /// The ceilings kept for `key`, checked: the schema and version socprof writes, a finite
    /// positive peak and DRAM bandwidth below 1e9 (no machine measures more).
    public static func lookup(key: String, directory: URL = CeilingsReport.directory()) -> Lookup {
        let file = directory.appendingPathComponent(key)
        guard let data = FileManager.default.contents(atPath: file.path) else { return .missing }
        guard let c = try? JSONDecoder().decode(CeilingsReport.self, from: data), c.schema == "socprof.ceilings", c.schema_version == 1, c.usable,
              let dram = c.bandwidth_gbs["DRAM"], c.peak_gflops_fp32 <= 1e9, dram <= 1e9 else { return .unusable(path: file.path) }
        return .found(Roofline(peak_gflops: c.peak_gflops_fp32, dram_gbs: dram, source: "measured ceilings \(file.path)"))
    }
}
