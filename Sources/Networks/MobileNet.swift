extension Network {
    /// MobileNet v1, depth multiplier 1.0, 224x224, as ARM Compute Library's
    /// `examples/graph_mobilenet.cpp` builds it in fp32 (model id 0, the TensorFlow
    /// mobilenet_v1_1.0_224 checkpoint): a 3x3/2 convolution, 13 depthwise-separable blocks
    /// (3x3 depthwise, then 1x1 pointwise, each followed by batch norm and ReLU6), a global
    /// average pool, a 1x1 convolution to 1001 classes (TensorFlow's class 0 is "background"),
    /// softmax.
    ///
    /// Batch norms are folded into the convolution before them (`batchNormFolded`, which gives
    /// each convolution a bias); ReLU6 is fused into the convolution. Stride-2 convolutions pad
    /// 0 before and 1 after (TensorFlow's "SAME" for an even input), as ACL's
    /// `PadStrideInfo(2, 2, 0, 1, 0, 1)`. ACL's Reshape (1001x1x1 -> 1001) moves no data and
    /// is not a layer here.
    public static func mobilenet() -> Network {
        var g = GraphBuilder(name: "mobilenet", input: TensorShape(c: 3, h: 224, w: 224))
        let stride2Pad = Padding(top: 0, left: 0, bottom: 1, right: 1)

        var x = g.conv("Conv2d_0", g.input,
                       Convolution(outputChannels: 32, kernel: 3, stride: 2, padding: stride2Pad, batchNormFolded: true),
                       activation: .relu6)
        // (pointwise output channels, depthwise stride) of Conv2d_1 ... Conv2d_13.
        let blocks: [(Int, Int)] = [
            (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
            (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
        ]
        for (i, (channels, stride)) in blocks.enumerated() {
            let name = "Conv2d_\(i + 1)"
            let c = x.shape.c
            x = g.conv("\(name)_depthwise/depthwise", x,
                       Convolution(outputChannels: c, kernel: 3, stride: stride, padding: stride == 2 ? stride2Pad : .same(1),
                                   groups: c, batchNormFolded: true),
                       activation: .relu6)
            x = g.conv("\(name)_pointwise/Conv2D", x, Convolution(outputChannels: channels, kernel: 1, batchNormFolded: true),
                       activation: .relu6)
        }
        x = g.pool("Logits/AvgPool_1a", x, .global(.average))
        x = g.conv("Logits/Conv2d_1c_1x1", x, Convolution(outputChannels: 1001, kernel: 1))
        _ = g.softmax("Softmax", x)
        return g.build()
    }
}
