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

    static func layer(_ name: String, ms: Double, metrics: [String: Double?] = [:], events: [String: Double] = [:], kind: String = "conv",
                      precision: Precision? = nil) -> LayerProfile {
        LayerProfile(name: name, kind: kind, precision: precision, output: TensorShape(c: 8, h: 4, w: 4), macs: 1000, ops: 2000, time_s: ms / 1e3,
                     time_min_s: ms / 1e3, time_max_s: ms / 1e3, gops: 1, oi_theoretical: 1, oi_empirical: .unavailable("not counted"),
                     events: events.mapValues { .measured($0, "counted") },
                     metrics: metrics.mapValues { v in v.map { .measured($0, "formula") } ?? .unavailable("no counter") })
    }

    static func report(_ network: String, placement: String, ips: Double, _ layers: [LayerProfile], precision: Precision? = nil) -> NetworkProfile {
        var p = NetworkProfile(schema: NetworkProfile.schemaName, schema_version: 1, network: network, placement: placement, threads: 2,
                               repeats: 5, warmup: 1, throughput_ips: ips, layers: layers, notes: [])
        p.precision = precision
        return p
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

    @Test("layers matched by name in A's order, B's own after the layer B runs before them; B/A of time and of the metric, none where A's is 0 or missing")
    func rows() throws {
        let c = try ProfileComparison(a: Self.a, b: Self.b, metric: "cycles")
        // B runs conv2, conv1, softmax: its softmax comes after conv1.
        #expect(c.rows.map(\.layer) == ["conv1", "softmax", "conv2", "fc"])
        #expect(c.throughputRatio == 0.25)
        let conv1 = c.rows[0]
        #expect(conv1.a_time_s == 0.002 && conv1.b_time_s == 0.005)
        #expect(abs(conv1.time_ratio! - 2.5) < 1e-12)
        #expect(conv1.a_metric == 4000 && conv1.b_metric == 10000 && conv1.metric_ratio == 2.5)
        // softmax: only B has it.
        #expect(c.rows[1].a_time_s == nil && c.rows[1].b_time_s == 0.0005 && c.rows[1].time_ratio == nil)
        #expect(c.rows[1].a_precision == nil && c.rows[1].b_precision == .fp32)
        // A's conv2 took 0 s and counted 0 cycles: no ratio. B's cycles come from its events.
        #expect(c.rows[2].time_ratio == nil && c.rows[2].b_metric == 6000 && c.rows[2].metric_ratio == nil)
        // fc: only A has it, and its cycles are unavailable.
        #expect(c.rows[3].b_time_s == nil && c.rows[3].time_ratio == nil && c.rows[3].a_metric == nil)
    }

    /// fp32 against int8 as `profile --precision int8` reports them: conversion layers only in B.
    static let fp32 = report("mobilenet", placement: "cluster big", ips: 50, [
        layer("conv0", ms: 2, kind: "conv"), layer("dw1", ms: 1, kind: "dwconv"), layer("pw1", ms: 4, kind: "conv"),
        layer("pool", ms: 0.5, kind: "gpool"), layer("logits", ms: 2.5, kind: "conv"),
    ])
    static let int8 = report("mobilenet", placement: "cluster big", ips: 80, [
        layer("conv0", ms: 2, kind: "conv"), layer("conv0/quantize", ms: 0.25, kind: "quantize", precision: .int8),
        layer("dw1", ms: 1.5, kind: "dwconv", precision: .int8), layer("pw1", ms: 1, kind: "conv", precision: .int8),
        layer("pool", ms: 0.25, kind: "gpool", precision: .int8), layer("pool/dequantize", ms: 0.5, kind: "dequantize"),
        layer("logits", ms: 2.5, kind: "conv"),
    ], precision: .int8)

    @Test("fp32 against int8: conversion layers in place, each side's precision, time by kind with shares (hand values)")
    func byKind() throws {
        let c = try ProfileComparison(a: Self.fp32, b: Self.int8)
        #expect(c.rows.map(\.layer) == ["conv0", "conv0/quantize", "dw1", "pw1", "pool", "pool/dequantize", "logits"])
        #expect(c.rows.map(\.kind) == ["conv", "quantize", "dwconv", "conv", "gpool", "dequantize", "conv"])
        #expect(c.rows[2].a_precision == .fp32 && c.rows[2].b_precision == .int8)
        // A: 10 ms of layers (conv 8.5, dwconv 1, gpool 0.5). B: 8 ms (conv 5.5, quantize 0.25,
        // dwconv 1.5, gpool 0.25, dequantize 0.5).
        let k = Dictionary(uniqueKeysWithValues: c.kinds.map { ($0.kind, $0) })
        #expect(c.kinds.map(\.kind) == ["conv", "dwconv", "gpool", "quantize", "dequantize"])
        let conv = try #require(k["conv"]), quantize = try #require(k["quantize"]), dequantize = try #require(k["dequantize"])
        #expect(abs(conv.a_time_s - 0.0085) < 1e-12 && abs(conv.b_time_s - 0.0055) < 1e-12)
        #expect(abs(conv.a_share - 0.85) < 1e-9 && abs(conv.b_share - 0.6875) < 1e-9)
        #expect(abs(conv.time_ratio! - 0.0055 / 0.0085) < 1e-9)
        #expect(quantize.a_time_s == 0 && quantize.time_ratio == nil && abs(quantize.b_share - 0.25 / 8) < 1e-9)
        #expect(abs(dequantize.b_share - 0.5 / 8) < 1e-9)
        #expect(abs(k["dwconv"]!.time_ratio! - 1.5) < 1e-9)
        let text = ComparisonReport.text(c, aName: "fp32.json", bName: "int8.json")
        #expect(text.contains("mobilenet (int8) on cluster big"))
        #expect(text.contains("fp32/int8"))
        #expect(text.contains("Where the time went"))
        // No int8 kernel in either report: no line, no keys.
        let plain = try ComparisonReport.json(c, aName: "a", bName: "b")
        #expect(!text.contains("int8 GEMM kernel") && !plain.contains("int8_kernel"))
        var maddubs = Self.int8
        maddubs.int8_kernel = "maddubs"
        let k8 = try ProfileComparison(a: Self.fp32, b: maddubs)
        #expect(ComparisonReport.text(k8, aName: "fp32.json", bName: "int8.json").contains("int8 GEMM kernel: A -, B maddubs (weights in -64...64)"))
        let json = try ComparisonReport.json(k8, aName: "a", bName: "b")
        #expect(json.contains("\"b_int8_kernel\" : \"maddubs\""))
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
