import Foundation
import ProfileModel
import Profiler

/// The last repeat of a profile as a Chrome/Perfetto trace (JSON "traceEvents"): each layer a
/// slice on every worker thread (with that thread's counts as arguments), each counted event a
/// counter track summed over the threads. Open it in ui.perfetto.dev or chrome://tracing.
public enum ChromeTrace {
    public static func render(_ p: NetworkProfile) throws -> String {
        var events: [[String: Any]] = [
            ["name": "process_name", "ph": "M", "pid": 1, "args": ["name": "socprof \(p.network) on \(p.placement)"]],
        ]
        for t in 0..<p.threads {
            events.append(["name": "thread_name", "ph": "M", "pid": 1, "tid": t, "args": ["name": t == 0 ? "thread 0 (caller)" : "worker \(t)"]])
        }
        let kinds = Dictionary(p.layers.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        for run in p.last_run {
            let ts = run.start_s * 1e6, dur = max(0, (run.end_s - run.start_s) * 1e6)
            for (t, counts) in run.per_thread.enumerated() {
                events.append(["name": run.layer, "cat": kinds[run.layer] ?? "layer", "ph": "X", "ts": ts, "dur": dur, "pid": 1, "tid": t,
                               "args": counts])
            }
            var sums: [String: Double] = [:]
            for counts in run.per_thread { for (k, v) in counts { sums[k, default: 0] += v } }
            for (name, value) in sums.sorted(by: { $0.key < $1.key }) {
                events.append(["name": name, "ph": "C", "ts": ts, "pid": 1, "args": [name: value]])
            }
        }
        let doc: [String: Any] = ["traceEvents": events, "displayTimeUnit": "ms",
                                  "otherData": ["network": p.network, "placement": p.placement, "threads": p.threads, "note": "the last of \(p.repeats) repeats"]]
        let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
