import ArgumentParser
import Counters
import Foundation
import Kernels
import Platform
import Profiler
import Reports

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
        let (platform, place, cluster) = try placement.resolve(root: global.systemRoot, board: board)
        let (cpus, label) = (place.cpus, place.label)
        let pool = try pinnedPool(threads: placement.threads ?? cpus.count, cpus: cpus)
        let threads = pool.count

        // No more than a quarter of the machine's memory in all.
        let physical = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
        let maxBytes = Ceilings.workingSetLimit(requested: maxMib << 20, threads: threads, physical: physical)
        if maxBytes < maxMib << 20 && !json {
            Terminal.stderr("socprof ceilings: --max-mib \(maxMib) x \(threads) threads exceeds a quarter of memory; using \(maxBytes >> 20) MiB per thread")
        }
        if !json { Terminal.stderr("socprof ceilings: \(label), \(threads) thread(s):") }
        let report = CeilingsReport.measure(pool: pool, platform: platform, cluster: cluster, cpus: cpus, maxBytesPerThread: maxBytes) { step in
            if !json { Terminal.stderr("  \(step)") }
        }
        let text = String(decoding: try ReportJSON.encoder().encode(report), as: UTF8.self) + "\n"
        let key = CeilingsReport.key(board: report.board, cluster: report.cluster, maxKHz: report.max_freq_khz, threads: threads, cpus: cpus)
        let kept: String
        do { kept = try CeilingsStore.save(report, key: key).path } catch {
            kept = "nowhere (see the error above)"
            Terminal.stderr("socprof ceilings: cannot keep the result in \(CeilingsReport.directory().appendingPathComponent(key).path): \(error.localizedDescription)")
        }
        if let output { try Terminal.emit(text, to: output) }
        if json { print(text, terminator: ""); return }
        print(CeilingsText.render(report, label: label, keptIn: kept), terminator: "")
    }
}
