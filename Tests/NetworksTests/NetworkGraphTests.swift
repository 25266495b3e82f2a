@testable import Networks
import Testing

/// The six built-in networks against ARM Compute Library's graph examples
/// (examples/graph_alexnet.cpp, graph_googlenet.cpp, graph_mobilenet.cpp, graph_resnet50.cpp,
/// graph_squeezenet.cpp, graph_squeezenet_v1_1.cpp).
@Suite("Built-in network graphs")
struct NetworkGraphTests {
    static func net(_ name: String) -> Network {
        guard let n = NetworkCatalog.network(named: name) else { fatalError("no network \(name)") }
        return n
    }

    func layer(_ n: Network, _ name: String) -> Layer? { n.layers.first { $0.name == name } }

    @Test func catalogListsSixNetworks() {
        #expect(NetworkCatalog.names == ["alexnet", "googlenet", "mobilenet", "resnet50", "squeezenet", "squeezenet-1.1"])
        #expect(NetworkCatalog.network(named: "vgg16") == nil)
        #expect(NetworkCatalog.network(named: "AlexNet") == nil) // callers lowercase
    }

    @Test(arguments: NetworkCatalog.names)
    func namedAfterItsCatalogEntry(name: String) {
        #expect(Self.net(name).name == name)
    }

    /// ACL's input sizes: 227 for AlexNet and SqueezeNet v1.1, 224 for the others (SqueezeNet
    /// v1.0 included: graph_squeezenet.cpp builds TensorShape(224U, 224U, 3U, 1U)).
    @Test(arguments: [("alexnet", 227), ("googlenet", 224), ("mobilenet", 224), ("resnet50", 224),
                      ("squeezenet", 224), ("squeezenet-1.1", 227)])
    func inputShape(name: String, size: Int) {
        let n = Self.net(name)
        #expect(n.input == TensorShape(c: 3, h: size, w: size))
        #expect(n.layers[0].kind == .input && n.layers[0].inputs.isEmpty)
    }

    /// Every network ends in a softmax over the classes: 1000, except MobileNet, whose
    /// TensorFlow checkpoint (and ACL's graph: Logits/Conv2d_1c_1x1 to 1001U, Reshape 1001U) has a
    /// 1001st "background" class.
    @Test(arguments: NetworkCatalog.names)
    func endsInSoftmaxOverTheClasses(name: String) {
        let n = Self.net(name)
        let classes = name == "mobilenet" ? 1001 : 1000
        #expect(n.layers.last?.kind == .softmax)
        #expect(n.output == TensorShape(c: classes, h: 1, w: 1))
        // The softmax is the only one, and reads the layer just before it.
        #expect(n.layers.filter { $0.kind == .softmax }.count == 1)
        #expect(n.layers.last?.inputs == [n.layers.count - 2])
    }

    @Test(arguments: NetworkCatalog.names)
    func everyInputComesEarlier(name: String) {
        let n = Self.net(name)
        for (i, l) in n.layers.enumerated() where i > 0 {
            #expect(!l.inputs.isEmpty, "\(l.name) reads nothing")
            for j in l.inputs { #expect(j >= 0 && j < i, "\(l.name) reads layer \(j)") }
        }
        // And every layer but the last feeds something.
        let read = Set(n.layers.flatMap(\.inputs))
        for i in 0..<(n.layers.count - 1) { #expect(read.contains(i), "\(n.layers[i].name) is never read") }
    }

    @Test(arguments: NetworkCatalog.names)
    func layerNamesAreUnique(name: String) {
        let names = Self.net(name).layers.map(\.name)
        #expect(Set(names).count == names.count)
    }

    /// The shapes each layer declares are the ones its inputs imply (GraphBuilder asserts it while
    /// building; this checks the stored graph again, independently).
    @Test(arguments: NetworkCatalog.names, Precision.allCases)
    func shapesAreConsistent(name: String, precision: Precision) {
        let n = Self.net(name).quantized(precision)
        for l in n.layers.dropFirst() {
            let ins = l.inputs.map { n.layers[$0].output }
            switch l.kind {
            case .convolution(let c):
                #expect(ins[0].c % c.groups == 0 && l.output.c == c.outputChannels, "\(l.name)")
            case .fullyConnected(let outputs):
                #expect(l.output == TensorShape(c: outputs, h: 1, w: 1), "\(l.name)")
            case .pooling(let p):
                #expect(l.output.c == ins[0].c, "\(l.name)")
                if p.global { #expect(l.output.h == 1 && l.output.w == 1) }
            case .lrn, .softmax, .quantize, .dequantize:
                #expect(l.output == ins[0], "\(l.name)")
            case .concat:
                #expect(l.output.c == ins.reduce(0) { $0 + $1.c } && ins.allSatisfy { $0.h == l.output.h && $0.w == l.output.w }, "\(l.name)")
            case .add:
                #expect(ins.count == 2 && ins.allSatisfy { $0 == l.output }, "\(l.name)")
            case .input:
                Issue.record("a second input layer \(l.name)")
            }
        }
    }

    struct ShapeCheck: Sendable, CustomTestStringConvertible {
        let network: String, layer: String, shape: TensorShape
        init(_ network: String, _ layer: String, _ c: Int, _ h: Int, _ w: Int) {
            self.network = network; self.layer = layer; self.shape = TensorShape(c: c, h: h, w: w)
        }
        var testDescription: String { "\(network) \(layer) \(shape)" }
    }

    /// Intermediate shapes, worked out from the ACL examples' kernels, strides, paddings and
    /// rounding (and matching the Caffe / TensorFlow models they load).
    @Test(arguments: [
        ShapeCheck("alexnet", "conv1", 96, 55, 55),
        ShapeCheck("alexnet", "pool1", 96, 27, 27),
        ShapeCheck("alexnet", "conv2", 256, 27, 27),
        ShapeCheck("alexnet", "pool2", 256, 13, 13),
        ShapeCheck("alexnet", "conv5", 256, 13, 13),
        ShapeCheck("alexnet", "pool5", 256, 6, 6),
        ShapeCheck("alexnet", "fc6", 4096, 1, 1),
        ShapeCheck("googlenet", "conv1/7x7_s2", 64, 112, 112),
        ShapeCheck("googlenet", "pool1/3x3_s2", 64, 56, 56),   // ceil: (112 - 3) / 2 = 54.5 -> 55, + 1
        ShapeCheck("googlenet", "conv2/3x3", 192, 56, 56),
        ShapeCheck("googlenet", "pool2/3x3_s2", 192, 28, 28),
        ShapeCheck("googlenet", "inception_3a/concat", 256, 28, 28),
        ShapeCheck("googlenet", "inception_3b/concat", 480, 28, 28),
        ShapeCheck("googlenet", "pool3/3x3_s2", 480, 14, 14),
        ShapeCheck("googlenet", "inception_4a/concat", 512, 14, 14),
        ShapeCheck("googlenet", "inception_4e/concat", 832, 14, 14),
        ShapeCheck("googlenet", "pool4/3x3_s2", 832, 7, 7),
        ShapeCheck("googlenet", "inception_5b/concat", 1024, 7, 7),
        ShapeCheck("googlenet", "pool5/7x7_s1", 1024, 1, 1),
        ShapeCheck("mobilenet", "Conv2d_0", 32, 112, 112),
        ShapeCheck("mobilenet", "Conv2d_1_pointwise/Conv2D", 64, 112, 112),
        ShapeCheck("mobilenet", "Conv2d_2_depthwise/depthwise", 64, 56, 56),
        ShapeCheck("mobilenet", "Conv2d_5_pointwise/Conv2D", 256, 28, 28),
        ShapeCheck("mobilenet", "Conv2d_11_pointwise/Conv2D", 512, 14, 14),
        ShapeCheck("mobilenet", "Conv2d_12_depthwise/depthwise", 512, 7, 7),
        ShapeCheck("mobilenet", "Conv2d_13_pointwise/Conv2D", 1024, 7, 7),
        ShapeCheck("mobilenet", "Logits/AvgPool_1a", 1024, 1, 1),
        ShapeCheck("resnet50", "conv1/convolution", 64, 112, 112),
        ShapeCheck("resnet50", "pool1/MaxPool", 64, 56, 56),
        // TF-slim: a block's stride is in its last unit.
        ShapeCheck("resnet50", "block1/unit2/bottleneck_v1/add", 256, 56, 56),
        ShapeCheck("resnet50", "block1/unit3/bottleneck_v1/conv1/convolution", 64, 56, 56),
        ShapeCheck("resnet50", "block1/unit3/bottleneck_v1/add", 256, 28, 28),
        ShapeCheck("resnet50", "block2/unit1/bottleneck_v1/shortcut/convolution", 512, 28, 28),
        ShapeCheck("resnet50", "block2/unit4/bottleneck_v1/add", 512, 14, 14),
        ShapeCheck("resnet50", "block3/unit6/bottleneck_v1/add", 1024, 7, 7),
        ShapeCheck("resnet50", "block4/unit3/bottleneck_v1/add", 2048, 7, 7),   // res5c
        ShapeCheck("resnet50", "pool5", 2048, 1, 1),
        ShapeCheck("squeezenet", "conv1", 96, 109, 109),
        ShapeCheck("squeezenet", "pool1", 96, 54, 54),
        ShapeCheck("squeezenet", "fire2/concat", 128, 54, 54),
        ShapeCheck("squeezenet", "fire4/concat", 256, 54, 54),
        ShapeCheck("squeezenet", "pool4", 256, 27, 27),
        ShapeCheck("squeezenet", "fire8/concat", 512, 27, 27),
        ShapeCheck("squeezenet", "pool8", 512, 13, 13),
        ShapeCheck("squeezenet", "fire9/concat", 512, 13, 13),
        ShapeCheck("squeezenet", "conv10", 1000, 13, 13),
        ShapeCheck("squeezenet-1.1", "conv1", 64, 113, 113),
        ShapeCheck("squeezenet-1.1", "pool1", 64, 56, 56),
        ShapeCheck("squeezenet-1.1", "pool3", 128, 28, 28),
        ShapeCheck("squeezenet-1.1", "pool5", 256, 14, 14),
        ShapeCheck("squeezenet-1.1", "fire9/concat", 512, 14, 14),
        ShapeCheck("squeezenet-1.1", "conv10", 1000, 14, 14),
    ])
    func intermediateShape(_ check: ShapeCheck) {
        let l = layer(Self.net(check.network), check.layer)
        #expect(l != nil, "no layer \(check.layer)")
        #expect(l?.output == check.shape)
    }

    struct Census: Sendable, CustomTestStringConvertible {
        let network: String
        let layers: Int, conv: Int, fc: Int, pool: Int, lrn: Int, concat: Int, add: Int
        var testDescription: String { network }
    }

    /// How many layers of each kind; the rest are the input and the softmax.
    @Test(arguments: [
        // 5 conv + 3 fc + 3 pool + 2 LRN + input + softmax.
        Census(network: "alexnet", layers: 15, conv: 5, fc: 3, pool: 3, lrn: 2, concat: 0, add: 0),
        // 3 stem convs + 9 x 6; 4 stem pools + 9 branch pools + the average pool.
        Census(network: "googlenet", layers: 85, conv: 57, fc: 1, pool: 14, lrn: 2, concat: 9, add: 0),
        // Conv2d_0 + 13 x (depthwise + pointwise) + the logits convolution.
        Census(network: "mobilenet", layers: 31, conv: 28, fc: 0, pool: 1, lrn: 0, concat: 0, add: 0),
        // conv1 + 16 units x 3 + 4 projection shortcuts + logits; pool1, 3 shortcut max pools, pool5.
        Census(network: "resnet50", layers: 77, conv: 54, fc: 0, pool: 5, lrn: 0, concat: 0, add: 16),
        // conv1 + 8 fire x 3 + conv10; 3 max pools + the global average pool.
        Census(network: "squeezenet", layers: 40, conv: 26, fc: 0, pool: 4, lrn: 0, concat: 8, add: 0),
        Census(network: "squeezenet-1.1", layers: 40, conv: 26, fc: 0, pool: 4, lrn: 0, concat: 8, add: 0),
    ])
    func layerCensus(_ c: Census) {
        let n = Self.net(c.network)
        func count(_ p: (LayerKind) -> Bool) -> Int { n.layers.filter { p($0.kind) }.count }
        #expect(n.layers.count == c.layers)
        #expect(count { if case .convolution = $0 { true } else { false } } == c.conv)
        #expect(count { if case .fullyConnected = $0 { true } else { false } } == c.fc)
        #expect(count { if case .pooling = $0 { true } else { false } } == c.pool)
        #expect(count { if case .lrn = $0 { true } else { false } } == c.lrn)
        #expect(count { $0 == .concat } == c.concat)
        #expect(count { $0 == .add } == c.add)
    }

    // MARK: details the ACL examples fix

    @Test func alexnetGroupsAndLRN() throws {
        let n = Self.net("alexnet")
        for (name, groups) in [("conv1", 1), ("conv2", 2), ("conv3", 1), ("conv4", 2), ("conv5", 2)] {
            guard case .convolution(let c) = try #require(layer(n, name)).kind else { Issue.record("\(name) is not a convolution"); continue }
            #expect(c.groups == groups, "\(name)")
            #expect(c.bias && !c.batchNormFolded)
        }
        guard case .convolution(let c1) = try #require(layer(n, "conv1")).kind else { Issue.record("conv1 is not a convolution"); return }
        #expect(c1.kernelH == 11 && c1.strideH == 4 && c1.padding == .none)
        // NormalizationLayerInfo(CROSS_MAP, 5, 0.0001f, 0.75f), kappa defaulting to 1.
        guard case .lrn(let lrn) = try #require(layer(n, "norm1")).kind else { Issue.record("norm1"); return }
        #expect(lrn == LRN(size: 5, alpha: 0.0001, beta: 0.75, k: 1))
        // ReLU fused everywhere but fc8.
        #expect(n.layers.filter { $0.activation == .relu }.map(\.name) == ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"])
    }

    /// ACL rounds GoogLeNet's and SqueezeNet's pools up (DimensionRoundingType::CEIL), AlexNet's
    /// and ResNet-50's down (the default).
    @Test(arguments: [("alexnet", Rounding.floor), ("googlenet", .ceil), ("resnet50", .floor),
                      ("squeezenet", .ceil), ("squeezenet-1.1", .ceil)])
    func poolRounding(name: String, rounding: Rounding) {
        for l in Self.net(name).layers {
            if case .pooling(let p) = l.kind, !p.global, p.kernel > 1 { #expect(p.rounding == rounding, "\(l.name)") }
        }
    }

    @Test func mobilenetDepthwiseSeparable() {
        let n = Self.net("mobilenet")
        var depthwise = 0
        for (i, l) in n.layers.enumerated() {
            guard case .convolution(let c) = l.kind else { continue }
            if l.name.hasSuffix("depthwise/depthwise") {
                depthwise += 1
                let inC = n.layers[l.inputs[0]].output.c
                #expect(c.groups == inC && c.outputChannels == inC && c.kernelH == 3, "\(l.name)")
                #expect(l.kind.name == "dwconv")
                // Stride 2 pads 0 before and 1 after (PadStrideInfo(2, 2, 0, 1, 0, 1)).
                if c.strideH == 2 { #expect(c.padding == Padding(top: 0, left: 0, bottom: 1, right: 1)) } else { #expect(c.padding == .same(1)) }
                // The pointwise convolution follows it.
                #expect(n.layers[i + 1].name.hasSuffix("pointwise/Conv2D") && n.layers[i + 1].inputs == [i])
            }
            if l.name == "Logits/Conv2d_1c_1x1" {
                #expect(!c.batchNormFolded && c.bias && l.activation == nil)
            } else {
                #expect(c.batchNormFolded && c.bias && l.activation == .relu6, "\(l.name)")
            }
        }
        #expect(depthwise == 13)
    }

    @Test func resnetUnits() throws {
        let n = Self.net("resnet50")
        var strided: [String] = []
        for l in n.layers where l.kind == .add {
            #expect(l.activation == .relu, "\(l.name): ReLU after the add")
            // The residual branch (conv3, no activation) is one of the two inputs.
            let branches = l.inputs.map { n.layers[$0] }
            #expect(branches.contains { $0.name.hasSuffix("conv3/convolution") && $0.activation == nil }, "\(l.name)")
        }
        for l in n.layers {
            guard case .convolution(let c) = l.kind else { continue }
            #expect(c.bias)
            #expect(c.batchNormFolded == (l.name != "logits/convolution"), "\(l.name)")
            if c.strideH != 1 { strided.append(l.name) }
        }
        #expect(strided == ["conv1/convolution", "block1/unit3/bottleneck_v1/conv2/convolution",
                            "block2/unit4/bottleneck_v1/conv2/convolution", "block3/unit6/bottleneck_v1/conv2/convolution"])
        // Shortcuts: a projection in each block's first unit, a 1x1/2 max pool in the strided last
        // units of blocks 1-3, the identity elsewhere.
        let pools = n.layers.filter { $0.name.hasSuffix("shortcut/MaxPool") }.map(\.name)
        #expect(pools == ["block1/unit3/bottleneck_v1/shortcut/MaxPool", "block2/unit4/bottleneck_v1/shortcut/MaxPool",
                          "block3/unit6/bottleneck_v1/shortcut/MaxPool"])
        let identity = try #require(layer(n, "block1/unit2/bottleneck_v1/add"))
        #expect(identity.inputs.contains(n.layers.firstIndex { $0.name == "block1/unit1/bottleneck_v1/add" }!))
    }

    @Test func googlenetInceptionBranchOrder() throws {
        let n = Self.net("googlenet")
        let concat = try #require(layer(n, "inception_3a/concat"))
        #expect(concat.inputs.map { n.layers[$0].name } == ["inception_3a/1x1", "inception_3a/3x3", "inception_3a/5x5", "inception_3a/pool_proj"])
        #expect(concat.inputs.map { n.layers[$0].output.c } == [64, 128, 32, 32])
    }

    @Test(arguments: ["squeezenet", "squeezenet-1.1"])
    func fireModules(name: String) throws {
        let n = Self.net(name)
        let concat = try #require(layer(n, "fire2/concat"))
        #expect(concat.inputs.map { n.layers[$0].name } == ["fire2/expand1x1", "fire2/expand3x3"])
        // Every convolution is followed by a ReLU (conv10's included).
        for l in n.layers { if case .convolution = l.kind { #expect(l.activation == .relu, "\(l.name)") } }
    }
}
