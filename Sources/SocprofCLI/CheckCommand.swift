import ArgumentParser
import Counters
import Experiments
import Foundation
import LinuxSystem
import Platform

/// `socprof check`: the counters checked against kernels with known counts (docs/check.md).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a cluster's counters against kernels with known counts: instructions, cycles, L1D and last-level refills, task-clock.",
        discussion: """
            One thread pinned to the cluster runs a loop of known length (inline assembly), a pointer chase \
            over 8 x L1D and a stream over 8 x the last-level cache, under the events `stat -e` would open \
            (ARM raw codes r08/r11/r03/r17 or r2a from the core's table, perf's generic names elsewhere). \
            Per metric: expected, measured, ratio and a verdict: trustworthy, off by a factor, counts 0 where it \
            must not, or unavailable with the reason. Nothing is estimated. The verdicts are kept per board and \
            cluster under ~/.cache/socprof/check (XDG_CACHE_HOME) for `profile` and `info`. docs/check.md.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The cluster to check (little, big, or a core name; `socprof info` lists them). Default: the biggest cluster.", valueName: "name"))
    var cluster: String?

    @Option(help: ArgumentHelp("Board file (name or path).", valueName: "name|file"))
    var board: String?

    @Flag(help: "Print JSON (schema socprof.check, version 1: docs/check.md).")
    var json = false

    @Option(name: .customLong("cache-dir"), help: ArgumentHelp("Keep the verdicts here instead of ~/.cache/socprof/check (tests).", valueName: "dir", visibility: .hidden))
    var cacheDir: String?

    func validate() throws { try global.validateRoot() }

    func run() throws {
        let platform: PlatformDescription
        do { platform = try PlatformDescription.load(root: global.systemRoot, board: board) } catch { throw fail(error.description) }
        let chosen = try chooseCluster(cluster, in: platform)
        let allowed = Affinity.current()
        let cpus = chosen.cpus.cpus.filter { allowed.contains($0) }
        if cpus.isEmpty { throw fail("cluster \(chosen.name) (cpus \(chosen.cpus)) has no CPU available to this process (allowed: \(allowed))") }

        if !json { Terminal.stderr("socprof check: cluster \(chosen.name), cpus \(CPUSet(cpus).description): loop, pointer chase, stream ...") }
        let report: CounterCheckReport
        do { report = try CounterCheckRunner(platform: platform, cluster: chosen, cpus: cpus).run() } catch { throw fail(error.description, code: 1) }
        var kept: String? = nil
        let directory = cacheDir.map { URL(fileURLWithPath: $0) } ?? CounterCheckReport.directory()
        do { kept = try report.save(in: directory).path } catch {
            Terminal.stderr("socprof check: cannot keep the verdicts in \(directory.path): \(error.localizedDescription)")
        }
        if json {
            print(try report.json(), terminator: "")
        } else {
            print(report.text(keptIn: kept), terminator: "")
        }
    }
}
