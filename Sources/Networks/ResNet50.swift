extension Network {
    /// ResNet-50 (v1) as ARM Compute Library's `examples/graph_resnet50.cpp` builds it from the
    /// TensorFlow-slim resnet_v1_50 checkpoint: a 7x7/2 convolution, a 3x3/2 max pool (pad 0
    /// before, 1 after, floor), four blocks of 3, 4, 6 and 3 bottleneck units, a global average
    /// pool, a 1x1 convolution to 1000 classes, softmax.
    ///
    /// As in TF-slim (and unlike the Caffe model), a block's stride sits in the 3x3 convolution
    /// of its *last* unit (blocks 1-3 stride 2, block 4 stride 1), whose shortcut is then a 1x1/2
    /// max pool; a block's first unit projects its shortcut with a 1x1/1 convolution. Batch norms
    /// are folded into the convolutions (`batchNormFolded`, which gives each a bias); the ReLU
    /// after each addition is fused into the `add`. ACL's Flatten moves no data and is not a
    /// layer here.
    public static func resnet50() -> Network {
        var g = GraphBuilder(name: "resnet50", input: TensorShape(c: 3, h: 224, w: 224))
        var x = g.conv("conv1/convolution", g.input,
                       Convolution(outputChannels: 64, kernel: 7, stride: 2, padding: .same(3), batchNormFolded: true),
                       activation: .relu)
        x = g.pool("pool1/MaxPool", x, Pooling(kind: .max, kernel: 3, stride: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1)))
        x = residualBlock(&g, "block1", x, baseDepth: 64, units: 3, stride: 2)
        x = residualBlock(&g, "block2", x, baseDepth: 128, units: 4, stride: 2)
        x = residualBlock(&g, "block3", x, baseDepth: 256, units: 6, stride: 2)
        x = residualBlock(&g, "block4", x, baseDepth: 512, units: 3, stride: 1)
        x = g.pool("pool5", x, .global(.average))
        x = g.conv("logits/convolution", x, Convolution(outputChannels: 1000, kernel: 1))
        _ = g.softmax("predictions/Softmax", x)
        return g.build()
    }

    /// ACL's `add_residual_block`.
    private static func residualBlock(_ g: inout GraphBuilder, _ name: String, _ input: GraphBuilder.Tensor,
                                      baseDepth: Int, units: Int, stride: Int) -> GraphBuilder.Tensor {
        var x = input
        for i in 0..<units {
            let unit = "\(name)/unit\(i + 1)/bottleneck_v1/"
            let middleStride = i == units - 1 ? stride : 1
            var right = g.conv(unit + "conv1/convolution", x,
                               Convolution(outputChannels: baseDepth, kernel: 1, batchNormFolded: true), activation: .relu)
            right = g.conv(unit + "conv2/convolution", right,
                           Convolution(outputChannels: baseDepth, kernel: 3, stride: middleStride, padding: .same(1), batchNormFolded: true),
                           activation: .relu)
            right = g.conv(unit + "conv3/convolution", right,
                           Convolution(outputChannels: baseDepth * 4, kernel: 1, batchNormFolded: true))
            let left: GraphBuilder.Tensor
            if i == 0 {
                left = g.conv(unit + "shortcut/convolution", x,
                              Convolution(outputChannels: baseDepth * 4, kernel: 1, batchNormFolded: true))
            } else if middleStride > 1 {
                left = g.pool(unit + "shortcut/MaxPool", x, Pooling(kind: .max, kernel: 1, stride: middleStride))
            } else {
                left = x
            }
            x = g.add(unit + "add", left, right, activation: .relu)
        }
        return x
    }
}
