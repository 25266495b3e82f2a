import Foundation
import Testing

/// Golden-file checks for the renderers: `text` must equal the file `name` in `directory`.
/// SOCPROF_UPDATE_GOLDEN=1 rewrites the file first (then read the diff before committing it). A
/// difference is recorded with the first line that differs.
public enum Golden {
    public static func check(_ text: String, against name: String, in directory: URL) throws {
        let file = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["SOCPROF_UPDATE_GOLDEN"] == "1" {
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        guard text != expected else { return }
        let a = text.split(separator: "\n", omittingEmptySubsequences: false), b = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        Issue.record("\(name) differs from the golden file at line \(line + 1):\n got: \(line < a.count ? String(a[line]) : "<end>")\nwant: \(line < b.count ? String(b[line]) : "<end>")")
    }
}
