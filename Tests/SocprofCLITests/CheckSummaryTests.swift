import Foundation
import Testing
import TestSupport

/// After `socprof check`, `info` and `profile` say what it found about the cluster's counters.
@Suite("check's verdicts in info and profile")
struct CheckSummaryTests {
    @Test("info and profile mention the verdicts of the last check, and nothing before one")
    func summaries() throws {
        let cache = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        var env = ProcessInfo.processInfo.environment
        env["XDG_CACHE_HOME"] = cache.path
        let before = try Socprof.run(["info"], environment: env)
        #expect(before.status == 0 && !before.stdout.contains("counters checked"))
        let check = try Socprof.run(["check"], environment: env)
        #expect(check.status == 0, "\(check.stderr)")
        let info = try Socprof.run(["info"], environment: env)
        #expect(info.stdout.contains("counters checked "), "\(info.stdout)")
        // The task-clock check runs everywhere (a software event): its verdict is in the line.
        #expect(info.stdout.contains("task_clock trustworthy"), "\(info.stdout)")
        let profile = try Socprof.run(["profile", "squeezenet-1.1", "--threads", "1", "--repeat", "1", "--warmup", "0", "--no-energy",
                                       "--idle-baseline", "0", "--format", "json"], environment: env)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(profile.stdout.utf8)) as? [String: Any])
        #expect((doc["notes"] as? [String])?.contains { $0.hasPrefix("counters checked ") } == true, "\(doc["notes"] ?? "")")
    }
}
