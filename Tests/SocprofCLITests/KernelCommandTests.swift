import Foundation
import Kernels
import Testing
import TestSupport

@Suite("socprof networks, run and kernel benchmarks")
struct KernelCommandTests {
    func json(_ args: [String]) throws -> [String: Any] {
        let r = try Socprof.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    @Test func networksJSON() throws {
        let doc = try json(["networks", "--json"])
        let nets = try #require(doc["networks"] as? [[String: Any]])
        #expect(nets.compactMap { $0["name"] as? String } == ["alexnet", "googlenet", "mobilenet", "resnet50", "squeezenet", "squeezenet-1.1"])
        let mobilenet = try #require(nets.first { $0["name"] as? String == "mobilenet" })
        #expect((mobilenet["macs"] as? Int).map { abs($0 - 568_741_376) < 1000 } == true)
        #expect((mobilenet["params"] as? Int).map { abs($0 - 4_222_057) < 100 } == true)
        let layers = try #require(mobilenet["layers"] as? [[String: Any]])
        let cost = try #require(layers[1]["cost"] as? [String: Any])
        for key in ["macs", "ops", "paramBytes", "inputBytes", "outputBytes", "minBytes", "oiTheoretical"] { #expect(cost[key] != nil, "\(key)") }
        let one = try Socprof.run(["networks", "resnet50"])
        #expect(one.status == 0 && one.stdout.contains("OI_t") && one.stdout.contains("block4/unit3"))
        let bad = try Socprof.run(["networks", "resnet51"])
        #expect(bad.status == 2 && bad.stderr.contains("unknown network 'resnet51'"))
    }

    @Test("networks NAME --export DIR writes index.json and tensors.f32, one run of the indexed float32 values")
    func networksExport() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("socprof-export-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Socprof.run(["networks", "squeezenet-1.1", "--export", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("index.json"))) as? [String: Any])
        #expect(index["network"] as? String == "squeezenet-1.1" && index["threads"] as? Int == 1)
        let tensors = try #require(index["tensors"] as? [[String: Any]])
        #expect(Set(tensors.compactMap { $0["role"] as? String }) == ["weights", "bias", "input", "logits", "output"])
        let floats = tensors.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        let data = try Data(contentsOf: dir.appendingPathComponent("tensors.f32"))
        #expect(data.count == floats * 4)
        let bad = try Socprof.run(["networks", "--export", dir.path])
        #expect(bad.status == 2 && bad.stderr.contains("--export needs a network name"))

        // --calibration-images and --accuracy-images append seeded images; the rest is as before.
        let images = try Socprof.run(["networks", "squeezenet-1.1", "--export", dir.path, "--calibration-images", "2", "--accuracy-images", "1"])
        #expect(images.status == 0, "\(images.stderr)")
        let withImages = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("index.json"))) as? [String: Any])
        let all = try #require(withImages["tensors"] as? [[String: Any]])
        #expect(all.count == tensors.count + 3)
        #expect(all.suffix(3).compactMap { $0["role"] as? String } == ["calibration", "calibration", "accuracy"])
        #expect(all.suffix(3).compactMap { $0["seed"] as? Int } == [1000, 1001, 100_000])
        #expect(!all.prefix(tensors.count).contains { $0["seed"] != nil }, "a seed on a tensor that is no image")
        let noExport = try Socprof.run(["networks", "squeezenet-1.1", "--calibration-images", "2"])
        #expect(noExport.status == 2 && noExport.stderr.contains("--calibration-images needs --export"))
        let negative = try Socprof.run(["networks", "squeezenet-1.1", "--export", dir.path, "--accuracy-images=-1"])
        #expect(negative.status == 2 && negative.stderr.contains("--accuracy-images -1"))
    }

    @Test func runReportsImagesPerSecondAndMemory() throws {
        let doc = try json(["run", "squeezenet-1.1", "--iterations", "3", "--warmup", "1", "--threads", "2", "--json"])
        #expect((doc["images_per_second"] as? Double ?? 0) > 0)
        #expect(doc["threads"] as? Int == 2)
        let minMs = try #require(doc["min_ms"] as? Double), median = try #require(doc["median_ms"] as? Double), maxMs = try #require(doc["max_ms"] as? Double)
        #expect(minMs <= median && median <= maxMs)
        let act = try #require(doc["activation_bytes"] as? Int), unplanned = try #require(doc["activation_bytes_without_reuse"] as? Int)
        #expect(act > 0 && act < unplanned)
        #expect((doc["peak_rss_bytes"] as? Int ?? 0) > (doc["weights_bytes"] as? Int ?? 0))
        let typo = try Socprof.run(["run", "mobilnet"])
        #expect(typo.status == 2 && typo.stderr.contains("did you mean 'mobilenet'"))
        let cpus = try Socprof.run(["run", "mobilenet", "--cpus", "100000", "--iterations", "1"])
        #expect(cpus.status == 2 && cpus.stderr.contains("not available to this process"))
        let cluster = try Socprof.run(["run", "mobilenet", "--cluster", "huge", "--iterations", "1"])
        #expect(cluster.status == 2 && cluster.stderr.contains("no cluster 'huge'"))
    }

    @Test func benchGEMMAndConv() throws {
        let g = try json(["bench", "gemm", "--m", "100", "--n", "70", "--k", "33", "--repeat", "2", "--json"])
        #expect((g["gflops"] as? Double ?? 0) > 0 && g["m"] as? Int == 100)
        let c = try json(["bench", "conv", "--network", "squeezenet-1.1", "--layer", "fire2/expand3x3", "--repeat", "2", "--json"])
        let rows = try #require(c["layers"] as? [[String: Any]])
        #expect(rows.count == 1 && (rows[0]["gflops"] as? Double ?? 0) > 0)
        // A 3x3 stride-1 layer: timed with the GEMM and with Winograd.
        #expect((rows[0]["gemm_gflops"] as? Double ?? 0) > 0 && (rows[0]["winograd_gflops"] as? Double ?? 0) > 0)
        #expect(["gemm-im2col", "winograd-f4x4"].contains(rows[0]["algorithm"] as? String ?? ""))
        #expect((c["gemm_gflops"] as? Double ?? 0) > 0)
        #expect(rows[0]["direct_ms"] == nil)
        // A first layer on 3 channels: timed with the direct kernel too where this CPU runs it,
        // which is then the algorithm used.
        let first = try json(["bench", "conv", "--network", "squeezenet-1.1", "--layer", "conv1", "--repeat", "1", "--json"])
        let firstRow = try #require((first["layers"] as? [[String: Any]])?.first)
        if DirectConvolution.applies {
            #expect((firstRow["direct_gflops"] as? Double ?? 0) > 0 && firstRow["algorithm"] as? String == "direct")
            #expect(firstRow["ms"] as? Double == firstRow["direct_ms"] as? Double)
        } else {
            #expect(firstRow["direct_ms"] == nil && firstRow["algorithm"] as? String == "gemm-im2col")
        }
        let bad = try Socprof.run(["bench", "gemm", "--m", "0"])
        #expect(bad.status == 2)
        // No convolution to time: refused, not 0 GFLOP/s.
        let none = try Socprof.run(["bench", "conv", "--network", "resnet50", "--kernel", "5"])
        #expect(none.status == 2 && none.stderr.contains("no GEMM convolution with a 5x5 kernel") && none.stdout.isEmpty)
        // A CPU the kernel will not pin to (no such CPU): an error, not an unpinned run.
        let unpinned = try Socprof.run(["bench", "gemm", "--m", "64", "--n", "64", "--k", "64", "--cpus", "1000", "--threads", "2", "--repeat", "1"])
        #expect(unpinned.status == 2 && unpinned.stderr.contains("could not pin 2 of 2 thread(s) to cpus 1000"), "\(unpinned.stderr)")
    }

    @Test("bench conv --depthwise: GB/s of the named depthwise layer and the roof measured beside it, as JSON")
    func benchConvDepthwise() throws {
        let d = try json(["bench", "conv", "--network", "mobilenet", "--depthwise", "--layer", "Conv2d_1_depthwise/depthwise", "--threads", "2",
                          "--max-mib", "8", "--repeat", "1", "--json"])
        let rows = try #require(d["layers"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["min_bytes"] as? Int == 3_212_544 && (rows[0]["gbs"] as? Double ?? 0) > 0)
        let roof = try #require(d["roof"] as? [String: Any])
        #expect(roof["dram_bytes_per_thread"] as? Int == 8 << 20 && (roof["dram_read_gbs"] as? Double ?? 0) > 0 && roof["threads"] as? Int == 2)
    }

    @Test("bench conv --precision int8: int8 GOP/s beside fp32 per layer and the int8 GEMM in the same run, as JSON")
    func benchConvInt8() throws {
        let c = try json(["bench", "conv", "--network", "squeezenet-1.1", "--layer", "fire2/expand3x3", "--precision", "int8", "--repeat", "1", "--json"])
        #expect(c["precision"] as? String == "int8")
        let rows = try #require(c["layers"] as? [[String: Any]])
        #expect(rows.count == 1 && (rows[0]["int8_gops"] as? Double ?? 0) > 0 && (rows[0]["int8_over_fp32"] as? Double ?? 0) > 0)
        #expect((c["int8_gemm_gops"] as? Double ?? 0) > 0 && (c["int8_conv_gops"] as? Double ?? 0) > 0)
        // fp32 alone carries no int8 keys.
        let fp32 = try json(["bench", "conv", "--network", "squeezenet-1.1", "--layer", "fire2/squeeze1x1", "--repeat", "1", "--json"])
        #expect(fp32["precision"] as? String == "fp32" && fp32["int8_conv_gops"] == nil)
    }

    @Test("bench conv refuses bad combinations with exit 2 and a sentence, before timing anything", arguments: [
        (["--precision", "int8-weights"], "not int8-weights"),
        (["--precision", "int4"], "int4"),
        (["--network", "mobilenet", "--depthwise", "--precision", "int8"], "--depthwise times the fp32 depthwise kernel"),
        (["--network", "resnet50", "--depthwise"], "resnet50 has no depthwise convolution."),
        (["--network", "mobilenet", "--depthwise", "--layer", "Conv2d_1_pointwise/Conv2D"], "mobilenet has no depthwise convolution named 'Conv2d_1_pointwise/Conv2D'"),
        (["--network", "mobilenet", "--depthwise", "--kernel", "5"], "no depthwise convolution with a 5x5 kernel"),
        (["--network", "mobilenet", "--max-mib", "64"], "--max-mib sets the DRAM working set of --depthwise"),
        (["--network", "mobilenet", "--depthwise", "--max-mib", "4"], "--max-mib 4 must be 8 to 8192"),
    ])
    func benchConvRefusals(arguments: [String], message: String) throws {
        let r = try Socprof.run(["bench", "conv"] + arguments)
        #expect(r.status == 2 && r.stderr.contains(message) && r.stdout.isEmpty, "\(arguments): \(r.stderr)")
    }
}

/// The release binary, which ./scripts/test builds before the tests (unoptimised debug code
/// allocates where the optimiser would not).
let releaseBinary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".build/release/socprof").path

@Suite("Steady state", .enabled(if: FileManager.default.isExecutableFile(atPath: releaseBinary), "needs the release build (./scripts/test makes it)"))
struct SteadyStateTests {
    @Test("running more images allocates nothing more (an LD_PRELOAD malloc counter, release build)")
    func noAllocationPerImage() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The counter is built here with the C compiler, or given prebuilt (the emulated ARM board
        // has no compiler: scripts/arm-board builds it for the guest).
        let lib: String
        if let prebuilt = ProcessInfo.processInfo.environment["SOCPROF_MALLOC_COUNTER"] {
            lib = prebuilt
        } else {
            let cc = try #require(Socprof.which("cc") ?? Socprof.which("gcc"), "no C compiler to build the malloc counter")
            lib = dir.appendingPathComponent("malloc_count.so").path
            let build = try Socprof.runProgram(cc, ["-O2", "-shared", "-fPIC", "-o", lib,
                                                    Fixtures.directory.appendingPathComponent("tools/malloc_count.c").path, "-ldl"])
            try #require(build.status == 0, "\(build.stderr)")
        }
        var env = ProcessInfo.processInfo.environment
        env["LD_PRELOAD"] = lib
        func mallocs(_ images: Int) throws -> Int {
            let r = try Socprof.runProgram(releaseBinary, ["run", "squeezenet-1.1", "--threads", "2", "--warmup", "1", "--iterations", String(images), "--json"],
                                           environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            let line = try #require(r.stderr.split(separator: "\n").last { $0.hasPrefix("MALLOCS ") })
            return try #require(Int(line.dropFirst("MALLOCS ".count)))
        }
        // 38 more images: an allocation per image (or per layer) would add at least 38. The runtime's
        // own start-up varies by a few allocations from run to run (up to 7 seen).
        let few = try mallocs(2), many = try mallocs(40)
        #expect(few > 100, "the counter sees the start-up allocations")
        #expect(abs(many - few) <= 12, "\(few) allocations for 2 images, \(many) for 40")
    }
}
