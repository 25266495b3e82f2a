import Foundation
import ProfileModel
import Profiler
import Reports
import Testing
import TestSupport

/// The profile's trace and roofline in process, from the synthetic run, against golden files.
@Suite("profile trace and roofline renderings")
struct ProfileDrawingsTests {
    @Test("the Chrome trace, as in Golden/profile-trace.json: JSON with each layer of the last repeat")
    func trace() throws {
        let t = try ChromeTrace.render(SyntheticRun.report())
        try ProfileReportTests.check(t, against: "profile-trace.json")
        _ = try JSONSerialization.jsonObject(with: Data(t.utf8))
        for layer in ["\"a\"", "\"b\"", "\"prob\""] { #expect(t.contains(layer)) }
    }

    @Test("the roofline SVG of one report, and of two overlaid, as in Golden/roofline*.svg")
    func roofline() throws {
        let one = RooflineSVG.render([.init(label: "little", profile: SyntheticRun.report())], title: "synthetic run")
        try ProfileReportTests.check(one, against: "roofline.svg")
        var faster = SyntheticRun.report()
        faster.place(under: Roofline(peak_gflops: 400, dram_gbs: 20, source: "other ceilings"))
        let two = RooflineSVG.render([.init(label: "little", profile: SyntheticRun.report()), .init(label: "big", profile: faster)],
                                     title: "two ceilings")
        try ProfileReportTests.check(two, against: "roofline-two.svg")
        #expect(one.contains("<svg") && two.contains("big") && two != one)
    }
}
