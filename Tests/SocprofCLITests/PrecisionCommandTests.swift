import Foundation
import Kernels
import Testing
import TestSupport

@Suite("--precision on run and profile")
struct PrecisionCommandTests {
    static func json(_ arguments: [String]) throws -> [String: Any] {
        let r = try Socprof.run(arguments)
        #expect(r.status == 0, "\(arguments): \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    @Test("profile --precision int8 --format json: every layer with its precision, the conversions as layers, a quarter of the bytes per int8 weight, the accuracy")
    func profileInt8() throws {
        let q = try Self.json(["profile", "mobilenet", "--precision", "int8", "--repeat", "1", "--warmup", "0", "--accuracy-images", "5",
                               "--calibration-images", "2", "--format", "json"])
        let f = try Self.json(["profile", "mobilenet", "--repeat", "1", "--warmup", "0", "--format", "json"])
        #expect(q["precision"] as? String == "int8" && f["precision"] as? String == "fp32")
        let layers = try #require(q["layers"] as? [[String: Any]]), fl = try #require(f["layers"] as? [[String: Any]])
        #expect(layers.count == fl.count + 2)
        for l in layers { #expect(["fp32", "int8"].contains(l["precision"] as? String ?? ""), "\(l["name"] ?? "?")") }
        let kinds = layers.map { $0["kind"] as? String ?? "" }
        #expect(kinds.filter { $0 == "quantize" }.count == 1 && kinds.filter { $0 == "dequantize" }.count == 1)
        let quantize = try #require(layers.first { $0["kind"] as? String == "quantize" })
        #expect(quantize["name"] as? String == "Conv2d_0/quantize" && quantize["precision"] as? String == "int8")
        // A pointwise layer: the same MACs, a quarter of the weight bytes (plus int32 bias and scale per channel).
        let name = "Conv2d_13_pointwise/Conv2D"
        let a = try #require(fl.first { $0["name"] as? String == name }), b = try #require(layers.first { $0["name"] as? String == name })
        #expect(a["macs"] as? Int == b["macs"] as? Int)
        #expect(b["param_bytes"] as? Int == 1024 * 1024 + 8 * 1024 && a["param_bytes"] as? Int == 4 * (1024 * 1024 + 1024))
        #expect((b["oi_theoretical"] as? Double ?? 0) > 3 * (a["oi_theoretical"] as? Double ?? 0))
        // The whole network: the logits layer (a quarter of MobileNet's weights) stays fp32.
        let wq = try #require(q["weight_bytes"] as? Int), wf = try #require(f["weight_bytes"] as? Int)
        #expect(Double(wq) / Double(wf) > 0.4 && Double(wq) / Double(wf) < 0.5, "\(wq) / \(wf)")
        let accuracy = try #require(q["accuracy"] as? [String: Any])
        #expect(accuracy["images"] as? Int == 5 && (accuracy["mean_cosine"] as? Double ?? 0) > 0.999)
        #expect(f["accuracy"] == nil)
    }

    @Test("run --precision int8 and int8-weights --json: the precision, smaller weights, the accuracy; a bad precision is refused")
    func run() throws {
        let f = try Self.json(["run", "squeezenet-1.1", "--iterations", "1", "--warmup", "0", "--json"])
        // int8 keeps the last layer (conv10, 40 % of SqueezeNet 1.1's weights) in fp32; int8-weights quantizes every layer.
        // The AVX2 kernel's packed weights are int16 (2 bytes a weight: 0.4 + 0.6 / 2 of fp32's).
        let wide = Int8Kernel.current.aElementBytes == 2
        for (p, most) in [("int8", wide ? 0.75 : 0.6), ("int8-weights", 0.3)] {
            let q = try Self.json(["run", "squeezenet-1.1", "--precision", p, "--iterations", "1", "--warmup", "0", "--accuracy-images", "3", "--json"])
            #expect(q["precision"] as? String == p)
            let ratio = Double(q["weights_bytes"] as? Int ?? .max) / Double(f["weights_bytes"] as? Int ?? 1)
            #expect(ratio > 0.2 && ratio < most, "\(p): \(ratio)")
            let a = try #require(q["accuracy"] as? [String: Any])
            #expect(a["images"] as? Int == 3 && (a["top1_agreement"] as? Double).map { (0...1).contains($0) } == true)
        }
        #expect(f["precision"] as? String == "fp32" && f["accuracy"] == nil)
        let bad = try Socprof.run(["run", "squeezenet-1.1", "--precision", "int4"])
        #expect(bad.status == 2 && bad.stderr.contains("int4") && bad.stderr.contains("int8-weights"), "\(bad.stderr)")
        // --int8-ends: SqueezeNet 1.1's conv1 and conv10 in int8 too; every weight 1 byte.
        let ends = try Self.json(["run", "squeezenet-1.1", "--precision", "int8", "--int8-ends", "--iterations", "1", "--warmup", "0",
                                  "--accuracy-images", "0", "--json"])
        let endsRatio = Double(ends["weights_bytes"] as? Int ?? .max) / Double(f["weights_bytes"] as? Int ?? 1)
        #expect(endsRatio > 0.2 && endsRatio < (wide ? 0.55 : 0.4), "\(endsRatio)")
        let endsAlone = try Socprof.run(["run", "squeezenet-1.1", "--int8-ends"])
        #expect(endsAlone.status == 2 && endsAlone.stderr.contains("--int8-ends goes with --precision int8"), "\(endsAlone.stderr)")
        let zero = try Socprof.run(["run", "squeezenet-1.1", "--precision", "int8", "--calibration-images", "0"])
        #expect(zero.status == 2 && zero.stderr.contains("--calibration-images"), "\(zero.stderr)")
    }
}
