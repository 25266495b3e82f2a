import Foundation
@testable import Networks
import Testing

@Suite("Per-layer cost model")
struct CostModelTests {
    static func net(_ name: String) -> Network { NetworkCatalog.network(named: name)! }

    static func cost(_ network: String, _ layer: String) -> LayerCost? {
        let n = net(network)
        return n.layers.firstIndex { $0.name == layer }.map { n.cost(ofLayer: $0) }
    }

    // MARK: published totals

    struct Published: Sendable, CustomTestStringConvertible {
        let network: String
        /// What this graph computes (a regression guard: these change only if the graph does).
        let macs: Int64, params: Int64
        /// The published figure and how far from it this graph may be (a fraction).
        let publishedMACs: Double, macTolerance: Double
        let publishedParams: Double, paramTolerance: Double
        var testDescription: String { network }
    }

    /// Sources of the published figures:
    /// - AlexNet: Sze, Chen, Yang, Emer, "Efficient Processing of Deep Neural Networks: A Tutorial
    ///   and Survey", Proc. IEEE 105(12), 2017, Table IV: 724M MACs, 61M weights (the two-group
    ///   BVLC model ACL loads; its exact count is 60,965,224).
    /// - GoogLeNet: Szegedy et al., "Going deeper with convolutions", CVPR 2015, sec. 1: "a
    ///   computational budget of 1.5 billion multiply-adds"; Sze et al. Table IV: 7.0M weights.
    ///   The BVLC model with Caffe's ceil-rounded pools is 1.58G (5.5% over the round figure).
    /// - MobileNet v1 1.0/224: Howard et al., "MobileNets", arXiv:1704.04861, Table 8: 569M
    ///   Mult-Adds, 4.2M parameters. ACL's graph has 1001 classes and folded batch-norm biases:
    ///   4,222,057.
    /// - ResNet-50: torchvision ResNet50_Weights.IMAGENET1K_V1 (pytorch.org/vision, resnet50):
    ///   25,557,032 parameters (BN scale and shift as 2 per channel; folded here into 1 bias per
    ///   channel: 25,557,032 - 26,560 = 25,530,472). For MACs see `resnet50MACs` below: ACL's
    ///   TF-slim graph is not the published 3.86G / 4.09G one.
    /// - SqueezeNet v1.0 / v1.1: torchvision SqueezeNet1_0_Weights / SqueezeNet1_1_Weights
    ///   (pytorch.org/vision): 1,248,424 / 1,235,496 parameters, 0.82 / 0.35 GFLOPS (which
    ///   torchvision counts as MACs) at 224x224. ACL runs v1.0 at 224 (exact match) and v1.1 at
    ///   227, which makes fire6-9 and conv10 14x14 instead of 13x13: 388M; see
    ///   `squeezenetAtPublishedInputSize`.
    @Test(arguments: [
        Published(network: "alexnet", macs: 724_406_816, params: 60_965_224,
                  publishedMACs: 724e6, macTolerance: 0.01, publishedParams: 61e6, paramTolerance: 0.01),
        Published(network: "googlenet", macs: 1_582_671_872, params: 6_998_552,
                  publishedMACs: 1.5e9, macTolerance: 0.06, publishedParams: 7.0e6, paramTolerance: 0.01),
        Published(network: "mobilenet", macs: 568_741_376, params: 4_222_057,
                  publishedMACs: 569e6, macTolerance: 0.01, publishedParams: 4.2e6, paramTolerance: 0.02),
        Published(network: "resnet50", macs: 3_482_255_360, params: 25_530_472,
                  publishedMACs: 3_482_255_360, macTolerance: 0, publishedParams: 25_557_032, paramTolerance: 0.002),
        Published(network: "squeezenet", macs: 818_924_576, params: 1_248_424,
                  publishedMACs: 0.82e9, macTolerance: 0.01, publishedParams: 1_248_424, paramTolerance: 0),
        Published(network: "squeezenet-1.1", macs: 387_747_520, params: 1_235_496,
                  publishedMACs: 387_747_520, macTolerance: 0, publishedParams: 1_235_496, paramTolerance: 0),
    ])
    func totalsMatchPublishedFigures(_ p: Published) {
        let n = Self.net(p.network)
        #expect(n.totalMACs == p.macs)
        #expect(n.totalParams == p.params)
        #expect(abs(Double(n.totalMACs) - p.publishedMACs) <= p.macTolerance * p.publishedMACs)
        #expect(abs(Double(n.totalParams) - p.publishedParams) <= p.paramTolerance * p.publishedParams)
    }

    /// ACL's ResNet-50 is TF-slim's resnet_v1_50: each block's stride sits in the 3x3 of its
    /// last unit, so three unit pairs per transition run at a quarter of the area they have in
    /// torchvision's v1.5 (stride in the 3x3 of the next block's first unit), which publishes
    /// 4.09 GFLOPS (MACs). At each of the three transitions the difference is the 3x3 and the
    /// closing 1x1 of the strided unit plus the opening 1x1 of the next block, each at
    /// (56^2 - 28^2) positions at block1 scale: 64*64*9 + 64*256 + 256*128 = 86,016 weights
    /// x 2,352 = 202,309,632 MACs (the same at every transition: channels double, area quarters).
    /// The paper's 3.8G (He et al., Table 1) is Caffe's v1 (stride in the first 1x1), another
    /// placement again.
    @Test func resnet50MACs() {
        let n = Self.net("resnet50")
        let positions: Int64 = 56 * 56 - 28 * 28
        let moved: Int64 = 3 * 86_016 * positions
        #expect(moved == 606_928_896)
        let torchvisionV15 = 4.09e9
        #expect(abs(Double(n.totalMACs + moved) - torchvisionV15) <= 0.001 * torchvisionV15)
    }

    /// At the 224x224 input torchvision measures, ACL's SqueezeNet graphs match the published
    /// 0.82 / 0.35 GMACs.
    @Test func squeezenetAtPublishedInputSize() {
        #expect(abs(Double(Network.squeezenet(inputSize: 224).totalMACs) - 0.82e9) <= 0.01 * 0.82e9)
        #expect(abs(Double(Network.squeezenet11(inputSize: 224).totalMACs) - 0.35e9) <= 0.01 * 0.35e9)
        // And at 227 (the Caffe prototxt's input), v1.0's conv1 is 111x111.
        #expect(Network.squeezenet(inputSize: 227).totalMACs == 832_667_936)
    }

    // MARK: hand-computed layers

    /// AlexNet conv2: 96x27x27 in, 256 5x5 filters in 2 groups (48 input channels each), pad 2,
    /// bias, ReLU.
    @Test func groupedConvolution() throws {
        let c = try #require(Self.cost("alexnet", "conv2"))
        let outputs: Int64 = 256 * 27 * 27                    // 186,624
        #expect(c.macs == outputs * 48 * 5 * 5)               // 223,948,800
        #expect(c.macs == 223_948_800)
        #expect(c.params == 256 * 48 * 25 + 256)              // 307,456
        #expect(c.paramBytes == 1_229_824)
        #expect(c.ops == 2 * 223_948_800 + outputs + outputs) // MACs x 2, bias, ReLU
        #expect(c.ops == 448_270_848)
        #expect(c.inputBytes == 96 * 27 * 27 * 4)             // 279,936
        #expect(c.outputBytes == 746_496)
        #expect(c.minBytes == 279_936 + 746_496 + 1_229_824)  // 2,256,256
        #expect(abs(c.oiTheoretical - 448_270_848.0 / 2_256_256.0) < 1e-9)
        #expect(abs(c.oiTheoretical - 198.68) < 0.01)
    }

    /// MobileNet Conv2d_1 depthwise: 32x112x112, 3x3, one filter per channel, folded batch norm
    /// (a bias), ReLU6 (2 ops per element).
    @Test func depthwiseConvolution() throws {
        let c = try #require(Self.cost("mobilenet", "Conv2d_1_depthwise/depthwise"))
        let outputs: Int64 = 32 * 112 * 112                    // 401,408
        #expect(c.macs == outputs * 9)                         // 3,612,672
        #expect(c.params == 32 * 9 + 32)
        #expect(c.ops == 2 * 3_612_672 + outputs + 2 * outputs) // 8,429,568
        #expect(c.inputBytes == 1_605_632 && c.outputBytes == 1_605_632)
        #expect(c.minBytes == 2 * 1_605_632 + 320 * 4)
    }

    /// AlexNet pool1: 3x3/2 max over 96x55x55 -> 96x27x27: 8 comparisons per output.
    @Test func maxPooling() throws {
        let c = try #require(Self.cost("alexnet", "pool1"))
        #expect(c.macs == 0 && c.params == 0 && c.paramBytes == 0)
        #expect(c.ops == 96 * 27 * 27 * 8)                     // 559,872
        #expect(c.inputBytes == 96 * 55 * 55 * 4)              // 1,161,600
        #expect(c.outputBytes == 96 * 27 * 27 * 4)             // 279,936
        #expect(c.minBytes == 1_441_536)
        #expect(abs(c.oiTheoretical - 559_872.0 / 1_441_536.0) < 1e-12)
    }

    /// ResNet-50 pool5: global average over 2048x7x7: 48 adds and 1 multiply per output.
    @Test func globalAveragePooling() throws {
        let c = try #require(Self.cost("resnet50", "pool5"))
        #expect(c.ops == 2048 * 49)
        #expect(c.inputBytes == 2048 * 49 * 4 && c.outputBytes == 2048 * 4)
        // A 1x1/2 max pool (a shortcut) compares nothing.
        #expect(Self.cost("resnet50", "block1/unit3/bottleneck_v1/shortcut/MaxPool")?.ops == 0)
    }

    @Test func fullyConnected() throws {
        let c = try #require(Self.cost("alexnet", "fc6"))
        #expect(c.macs == 9216 * 4096)                         // 256x6x6 flattened
        #expect(c.params == 9216 * 4096 + 4096)
        #expect(c.ops == 2 * 9216 * 4096 + 4096 + 4096)        // bias, ReLU
        #expect(c.inputBytes == 9216 * 4)
        #expect(c.outputBytes == 4096 * 4)
    }

    @Test func elementwiseLayers() throws {
        // LRN size 5: square, 4 adds, scale, + k, pow, divide = 9 per element.
        #expect(Self.cost("alexnet", "norm1")?.ops == Int64(96 * 55 * 55 * 9))
        // Add with a fused ReLU: 2 per element; both inputs are read.
        let add = try #require(Self.cost("resnet50", "block1/unit2/bottleneck_v1/add"))
        #expect(add.ops == 256 * 56 * 56 * 2)
        #expect(add.inputBytes == 2 * 256 * 56 * 56 * 4 && add.outputBytes == 256 * 56 * 56 * 4)
        // Concat: a copy, no arithmetic; it reads what it writes.
        let concat = try #require(Self.cost("googlenet", "inception_3a/concat"))
        #expect(concat.ops == 0 && concat.inputBytes == concat.outputBytes && concat.outputBytes == 256 * 28 * 28 * 4)
        // Softmax: 5 per element.
        #expect(Self.cost("alexnet", "prob")?.ops == 5000)
        #expect(Self.cost("mobilenet", "Softmax")?.ops == 5005)
    }

    @Test func inputLayerDoesNoWork() {
        let c = Self.net("alexnet").cost(ofLayer: 0)
        #expect(c.macs == 0 && c.ops == 0 && c.params == 0 && c.inputBytes == 0 && c.minBytes == 0 && c.oiTheoretical == 0)
        #expect(c.outputBytes == 3 * 227 * 227 * 4)
    }

    // MARK: invariants

    @Test(arguments: NetworkCatalog.names)
    func fieldsAreConsistent(name: String) {
        let n = Self.net(name)
        let costs = n.costs()
        #expect(costs.count == n.layers.count)
        for (l, c) in zip(n.layers, costs).dropFirst() {
            #expect(c.paramBytes == 4 * c.params, "\(l.name)")
            #expect(c.outputBytes == l.output.bytes, "\(l.name)")
            #expect(c.inputBytes == l.inputs.reduce(Int64(0)) { $0 + n.layers[$1].output.bytes }, "\(l.name)")
            #expect(c.minBytes == c.inputBytes + c.outputBytes + c.paramBytes, "\(l.name)")
            #expect(c.minBytes > 0 && c.oiTheoretical == Double(c.ops) / Double(c.minBytes), "\(l.name)")
            #expect(c.ops >= 2 * c.macs, "\(l.name)")
            switch l.kind {
            case .convolution, .fullyConnected: #expect(c.macs > 0 && c.params > 0, "\(l.name)")
            default: #expect(c.macs == 0 && c.params == 0, "\(l.name)")
            }
        }
        #expect(n.totalMACs == costs.reduce(0) { $0 + $1.macs })
        #expect(n.totalOps == costs.reduce(0) { $0 + $1.ops })
        #expect(n.totalParams == costs.reduce(0) { $0 + $1.params })
        #expect(n.totalParamBytes == 4 * n.totalParams)
        #expect(n.totalMinBytes == costs.reduce(0) { $0 + $1.minBytes })
    }

    /// Totals pass 2^31 (ResNet-50's ops, ~7e9), which an Int on armv7 could not hold; the fields
    /// are Int64 whatever the platform.
    @Test func totalsExceedInt32() {
        let n = Self.net("resnet50")
        #expect(n.totalOps > Int64(Int32.max))
        #expect(n.totalOps == 6_987_723_120)
    }

    @Test func codableRoundTrip() throws {
        let costs = Self.net("squeezenet-1.1").costs()
        let data = try JSONEncoder().encode(costs)
        #expect(try JSONDecoder().decode([LayerCost].self, from: data) == costs)
        let json = try #require(String(data: JSONEncoder().encode(costs[1]), encoding: .utf8))
        for key in ["macs", "ops", "params", "paramBytes", "inputBytes", "outputBytes", "minBytes", "oiTheoretical"] {
            #expect(json.contains("\"\(key)\""), "\(key)")
        }
    }
}
