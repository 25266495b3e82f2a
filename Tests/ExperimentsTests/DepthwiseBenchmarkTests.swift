import Experiments
import Kernels
import Networks
import Platform
import Testing

/// `bench conv --depthwise`: which layers it times and its GB/s, by hand.
@Suite("depthwise benchmark: layers and GB/s")
struct DepthwiseBenchmarkTests {
    let mobilenet = NetworkCatalog.network(named: "mobilenet")!

    @Test("the depthwise layers are MobileNet's 13 Conv2d_N_depthwise, 4 of stride 2; none in ResNet-50; GEMM convolutions and depthwise ones split the convolutions")
    func selection() throws {
        let dw = DepthwiseBenchmark.selected(network: mobilenet)
        #expect(dw.map { mobilenet.layers[$0].name } == (1...13).map { "Conv2d_\($0)_depthwise/depthwise" })
        let strides = dw.compactMap { i -> Int? in
            guard case .convolution(let c) = mobilenet.layers[i].kind else { return nil }
            return c.strideH
        }
        #expect(strides.filter { $0 == 2 }.count == 4 && strides.count == 13)
        #expect(DepthwiseBenchmark.selected(network: NetworkCatalog.network(named: "resnet50")!).isEmpty)
        // A named layer: only it, and only when it is depthwise; a kernel size filters.
        #expect(DepthwiseBenchmark.selected(network: mobilenet, layer: "Conv2d_13_depthwise/depthwise").map { mobilenet.layers[$0].name }
                == ["Conv2d_13_depthwise/depthwise"])
        #expect(DepthwiseBenchmark.selected(network: mobilenet, layer: "Conv2d_13_pointwise/Conv2D").isEmpty)
        #expect(DepthwiseBenchmark.selected(network: mobilenet, kernel: 3).count == 13)
        #expect(DepthwiseBenchmark.selected(network: mobilenet, kernel: 1).isEmpty)
        // Every convolution is timed by exactly one of bench conv's two modes.
        let gemm = ConvBenchmark.selected(network: mobilenet)
        let convolutions = mobilenet.layers.indices.filter { if case .convolution = mobilenet.layers[$0].kind { true } else { false } }
        #expect(Set(gemm).isDisjoint(with: dw) && (gemm + dw).sorted() == convolutions)
    }

    static func roof(l2: Double?) -> BandwidthRoof {
        BandwidthRoof(dram_read_gbs: 20, dram_copy_gbs: 15, dram_bytes_per_thread: 256 << 20, l2_read_gbs: l2, l2_bytes_per_thread: l2.map { _ in 512 << 10 },
                      l3_read_gbs: nil, l3_bytes_per_thread: nil, threads: 1)
    }

    @Test("a layer's GB/s: the cost model's least bytes over the median time, against the roof's DRAM and L2, by hand")
    func gigabytesPerSecond() throws {
        // Conv2d_1_depthwise: 32x112x112 in and out at fp32 (1,605,632 bytes each), 32 3x3
        // filters and 32 biases (320 floats, 1,280 bytes): 3,212,544 bytes; 32 x 112 x 112 x 9 MACs.
        let i = try #require(mobilenet.layers.firstIndex { $0.name == "Conv2d_1_depthwise/depthwise" })
        let cost = mobilenet.cost(ofLayer: i)
        #expect(cost.minBytes == 3_212_544 && cost.macs == 3_612_672)
        let row = DepthwiseBenchmark.Layer(layer: "dw", shape: "s", cost: cost, seconds: 0.001, roof: Self.roof(l2: 100))
        #expect(row.min_bytes == 3_212_544 && row.ms == 1)
        #expect(abs(row.gbs - 3.212544) < 1e-12)
        #expect(abs(row.gflop - 0.007225344) < 1e-15 && abs(row.gflops - 7.225344) < 1e-9)
        #expect(abs(row.of_dram_read - 3.212544 / 20) < 1e-12)
        #expect(abs(try #require(row.of_l2_read) - 3.212544 / 100) < 1e-12)
        // No L2 measured: no share of it.
        #expect(DepthwiseBenchmark.Layer(layer: "dw", shape: "s", cost: cost, seconds: 0.002, roof: Self.roof(l2: nil)).of_l2_read == nil)
        // Byte counts past Int32 (the 32-bit rule): 5e9 bytes in 2 s.
        #expect(DepthwiseBenchmark.gigabytesPerSecond(bytes: 5_000_000_000, seconds: 2) == 2.5)
        #expect(DepthwiseBenchmark.gigabytesPerSecond(bytes: 1000, seconds: 0) == 0)
    }

    @Test("the roof's working sets: 256 MiB per thread for DRAM, halved to fit a quarter of memory; no L2 without a cache size")
    func workingSets() {
        let none = CacheShares(cluster: nil, board: nil, cpus: [0, 1], threads: 2)
        let big = BandwidthRoof.WorkingSets(shares: none, threads: 2, physicalBytes: 64 << 30)
        #expect(big == BandwidthRoof.WorkingSets(dram: 256 << 20, l2: nil, l3: nil))
        // 1 GiB of memory, 2 threads: a quarter is 256 MiB, 128 MiB each.
        #expect(BandwidthRoof.WorkingSets(shares: none, threads: 2, physicalBytes: 1 << 30).dram == 128 << 20)
        #expect(BandwidthRoof.WorkingSets(shares: none, threads: 1, physicalBytes: 64 << 30, dramRequested: 8 << 20).dram == 8 << 20)
    }

    @Test("a run times the named layer on its computed input and reports its least bytes, with the roof measured at the sets given")
    func run() throws {
        let pool = ThreadPool(threads: 2)
        let sets = BandwidthRoof.WorkingSets(dram: 1 << 20, l2: 64 << 10, l3: nil)
        let r = DepthwiseBenchmark.run(network: mobilenet, pool: pool, layer: "Conv2d_1_depthwise/depthwise", sets: sets,
                                       timing: KernelTiming(repetitions: 1))
        #expect(r.layers.map(\.layer) == ["Conv2d_1_depthwise/depthwise"] && r.threads == 2)
        #expect(r.layers[0].min_bytes == 3_212_544 && r.totalBytes == 3_212_544)
        #expect(r.layers[0].shape == "32x112x112 -> 32x112x112 k3 s1 g32")
        #expect(r.roof.dram_bytes_per_thread == 1 << 20 && r.roof.l2_bytes_per_thread == 64 << 10 && r.roof.l3_read_gbs == nil)
        #expect(r.roof.dram_read_gbs > 0 && (r.roof.l2_read_gbs ?? 0) > 0)
    }
}
