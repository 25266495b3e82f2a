extension Network {
    /// SqueezeNet v1.0 as ARM Compute Library's `examples/graph_squeezenet.cpp` builds it (the
    /// DeepScale Caffe model). Note the input: ACL's example uses 3x224x224 for v1.0 (227 for
    /// v1.1). With the ceil-rounded pools 224 gives conv1 96x109x109, pool1 54x54, pool4 27x27
    /// and fire9 512x13x13, the same 13x13 as the 227 of the Caffe prototxt.
    public static func squeezenet() -> Network { squeezenet(inputSize: 224) }

    /// SqueezeNet v1.0 at another input size (tests compare it with published figures).
    static func squeezenet(inputSize: Int) -> Network {
        var g = GraphBuilder(name: "squeezenet", input: TensorShape(c: 3, h: inputSize, w: inputSize))
        let pool = Pooling(kind: .max, kernel: 3, stride: 2, rounding: .ceil)
        var x = g.conv("conv1", g.input, Convolution(outputChannels: 96, kernel: 7, stride: 2), activation: .relu)
        x = g.pool("pool1", x, pool)
        x = fire(&g, "fire2", x, squeeze: 16, expand: 64)
        x = fire(&g, "fire3", x, squeeze: 16, expand: 64)
        x = fire(&g, "fire4", x, squeeze: 32, expand: 128)
        x = g.pool("pool4", x, pool)
        x = fire(&g, "fire5", x, squeeze: 32, expand: 128)
        x = fire(&g, "fire6", x, squeeze: 48, expand: 192)
        x = fire(&g, "fire7", x, squeeze: 48, expand: 192)
        x = fire(&g, "fire8", x, squeeze: 64, expand: 256)
        x = g.pool("pool8", x, pool)
        x = fire(&g, "fire9", x, squeeze: 64, expand: 256)
        return squeezenetHead(&g, x)
    }

    /// SqueezeNet v1.1 as ARM Compute Library's `examples/graph_squeezenet_v1_1.cpp` builds it:
    /// a 3x227x227 input, a 3x3/2 first convolution with 64 filters, and the pools moved earlier
    /// (after conv1, fire3 and fire5), so fire6-9 run at 14x14.
    public static func squeezenet11() -> Network { squeezenet11(inputSize: 227) }

    /// SqueezeNet v1.1 at another input size (tests compare it with published figures).
    static func squeezenet11(inputSize: Int) -> Network {
        var g = GraphBuilder(name: "squeezenet-1.1", input: TensorShape(c: 3, h: inputSize, w: inputSize))
        let pool = Pooling(kind: .max, kernel: 3, stride: 2, rounding: .ceil)
        var x = g.conv("conv1", g.input, Convolution(outputChannels: 64, kernel: 3, stride: 2), activation: .relu)
        x = g.pool("pool1", x, pool)
        x = fire(&g, "fire2", x, squeeze: 16, expand: 64)
        x = fire(&g, "fire3", x, squeeze: 16, expand: 64)
        x = g.pool("pool3", x, pool)
        x = fire(&g, "fire4", x, squeeze: 32, expand: 128)
        x = fire(&g, "fire5", x, squeeze: 32, expand: 128)
        x = g.pool("pool5", x, pool)
        x = fire(&g, "fire6", x, squeeze: 48, expand: 192)
        x = fire(&g, "fire7", x, squeeze: 48, expand: 192)
        x = fire(&g, "fire8", x, squeeze: 64, expand: 256)
        x = fire(&g, "fire9", x, squeeze: 64, expand: 256)
        return squeezenetHead(&g, x)
    }

    /// A fire module: 1x1 squeeze, then 1x1 and 3x3 expands concatenated (ACL's
    /// `get_expand_fire_node`), every convolution followed by a ReLU.
    private static func fire(_ g: inout GraphBuilder, _ name: String, _ x: GraphBuilder.Tensor,
                             squeeze: Int, expand: Int) -> GraphBuilder.Tensor {
        let s = g.conv("\(name)/squeeze1x1", x, Convolution(outputChannels: squeeze, kernel: 1), activation: .relu)
        let e1 = g.conv("\(name)/expand1x1", s, Convolution(outputChannels: expand, kernel: 1), activation: .relu)
        let e3 = g.conv("\(name)/expand3x3", s, Convolution(outputChannels: expand, kernel: 3, padding: .same(1)), activation: .relu)
        return g.concat("\(name)/concat", [e1, e3])
    }

    /// conv10 (1x1 to 1000, ReLU), global average pool, softmax. ACL's Flatten moves no data and
    /// is not a layer here.
    private static func squeezenetHead(_ g: inout GraphBuilder, _ x: GraphBuilder.Tensor) -> Network {
        var x = g.conv("conv10", x, Convolution(outputChannels: 1000, kernel: 1), activation: .relu)
        x = g.pool("pool10", x, .global(.average))
        _ = g.softmax("prob", x)
        return g.build()
    }
}
