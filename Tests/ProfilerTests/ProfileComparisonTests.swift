import Foundation
import Networks
import ProfileModel
import Profiler
import Reports
import Testing
import TestSupport

@Suite("compare: two reports side by side")
struct ProfileComparisonTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func layer(_ name: String, ms: Double, metrics: [String: Double?] = [:], events: [String: Double] = [:]) -> LayerProfile {
        LayerProfile(name: name, kind: "conv", output: TensorShape(c: 8, h: 4, w: 4), macs: 1000, ops: 2000, time_s: ms / 1e3,
                     time_min_s: ms / 1e3, time_max_s: ms / 1e3, gops: 1, oi_theoretical: 1, oi_empirical: .unavailable("not counted"),
                     events: events.mapValues { .measured($0, "counted") },
                     metrics: metrics.mapValues { v in v.map { .measured($0, "formula") } ?? .unavailable("no counter") })
    }

    static func report(_ network: String, placement: String, ips: Double, _ layers: [LayerProfile]) -> NetworkProfile {
        NetworkProfile(schema: NetworkProfile.schemaName, schema_version: 1, network: network, placement: placement, threads: 2,
                       repeats: 5, warmup: 1, throughput_ips: ips, layers: layers, notes: [])
    }

    // A: big cluster. B: LITTLE, with a layer A lacks and A's conv2 taking no time.
    static let a = report("mobilenet", placement: "cluster big", ips: 40, [
        layer("conv1", ms: 2, metrics: ["cycles": 4000]),
        layer("conv2", ms: 0, metrics: ["cycles": 0]),
        layer("fc", ms: 1, metrics: ["cycles": nil]),
    ])
    static let b = report("mobilenet", placement: "cluster little", ips: 10, [
        layer("conv2", ms: 3, events: ["cycles": 6000]),
        layer("conv1", ms: 5, metrics: ["cycles": 10000]),
        layer("softmax", ms: 0.5),
    ])

    @Test("layers matched by name in A's order, B's own after; B/A of time and of the metric, none where A's is 0 or missing")
    func rows() throws {
        let c = try ProfileComparison(a: Self.a, b: Self.b, metric: "cycles")
        #expect(c.rows.map(\.layer) == ["conv1", "conv2", "fc", "softmax"])
        #expect(c.throughputRatio == 0.25)
        let conv1 = c.rows[0]
        #expect(conv1.a_time_s == 0.002 && conv1.b_time_s == 0.005)
        #expect(abs(conv1.time_ratio! - 2.5) < 1e-12)
        #expect(conv1.a_metric == 4000 && conv1.b_metric == 10000 && conv1.metric_ratio == 2.5)
        // A's conv2 took 0 s and counted 0 cycles: no ratio. B's cycles come from its events.
        #expect(c.rows[1].time_ratio == nil && c.rows[1].b_metric == 6000 && c.rows[1].metric_ratio == nil)
        // fc: only A has it, and its cycles are unavailable.
        #expect(c.rows[2].b_time_s == nil && c.rows[2].time_ratio == nil && c.rows[2].a_metric == nil)
        // softmax: only B has it.
        #expect(c.rows[3].a_time_s == nil && c.rows[3].b_time_s == 0.0005 && c.rows[3].time_ratio == nil)
    }

    @Test("a metric neither report has is refused with a suggestion")
    func unknownMetric() {
        #expect {
            try ProfileComparison(a: Self.a, b: Self.b, metric: "cycels")
        } throws: { error in
            "\(error)".contains("--metric 'cycels' is in neither report") && "\(error)".contains("did you mean 'cycles'?")
        }
    }

    @Test("the text and the JSON, as in Golden/compare.txt and Golden/compare.json")
    func renderings() throws {
        let c = try ProfileComparison(a: Self.a, b: Self.b, metric: "cycles")
        try Golden.check(ComparisonReport.text(c, aName: "big.json", bName: "little.json"), against: "compare.txt", in: Self.golden)
        let json = try ComparisonReport.json(c, aName: "big.json", bName: "little.json")
        try Golden.check(json, against: "compare.json", in: Self.golden)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(doc["throughput_ratio"] as? Double == 0.25)
        #expect((doc["layers"] as? [[String: Any]])?.count == 4)
    }
}
