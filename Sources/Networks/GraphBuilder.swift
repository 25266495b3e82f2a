/// Builds a `Network` layer by layer, inferring each output shape (ACL's rules).
public struct GraphBuilder {
    public private(set) var layers: [Layer] = []
    let name: String

    /// A handle to a layer's output.
    public struct Tensor: Hashable, Sendable {
        public let index: Int
        public let shape: TensorShape
    }

    public init(name: String, input: TensorShape) {
        self.name = name
        layers.append(Layer(name: "input", kind: .input, inputs: [], activation: nil, output: input))
    }

    /// The input tensor.
    public var input: Tensor { Tensor(index: 0, shape: layers[0].output) }

    /// Output size of a window: floor or ceil of (in + pads - k) / stride, plus 1. With ceil, a
    /// last window that would start in the padding is dropped (Caffe's rule).
    public static func windowOutput(_ size: Int, kernel: Int, stride: Int, padBefore: Int, padAfter: Int, rounding: Rounding) -> Int {
        let span = size + padBefore + padAfter - kernel
        precondition(span >= 0, "window \(kernel) larger than the padded input \(size + padBefore + padAfter)")
        var out = (rounding == .floor ? span / stride : (span + stride - 1) / stride) + 1
        if rounding == .ceil && (out - 1) * stride >= size + padBefore { out -= 1 }
        return out
    }

    @discardableResult
    mutating func add(_ name: String, _ kind: LayerKind, _ inputs: [Tensor], _ activation: Activation?, _ out: TensorShape) -> Tensor {
        precondition(!layers.contains { $0.name == name }, "duplicate layer name \(name)")
        layers.append(Layer(name: name, kind: kind, inputs: inputs.map(\.index), activation: activation, output: out))
        return Tensor(index: layers.count - 1, shape: out)
    }

    /// A convolution; `groups` == input channels == output channels makes it depthwise.
    public mutating func conv(_ name: String, _ x: Tensor, _ c: Convolution, activation: Activation? = nil) -> Tensor {
        precondition(x.shape.c % c.groups == 0 && c.outputChannels % c.groups == 0, "\(name): channels not divisible by groups")
        let h = Self.windowOutput(x.shape.h, kernel: c.kernelH, stride: c.strideH, padBefore: c.padding.top, padAfter: c.padding.bottom, rounding: .floor)
        let w = Self.windowOutput(x.shape.w, kernel: c.kernelW, stride: c.strideW, padBefore: c.padding.left, padAfter: c.padding.right, rounding: .floor)
        return add(name, .convolution(c), [x], activation, TensorShape(c: c.outputChannels, h: h, w: w))
    }

    public mutating func fc(_ name: String, _ x: Tensor, outputs: Int, activation: Activation? = nil) -> Tensor {
        add(name, .fullyConnected(outputs: outputs), [x], activation, TensorShape(c: outputs, h: 1, w: 1))
    }

    public mutating func pool(_ name: String, _ x: Tensor, _ p: Pooling) -> Tensor {
        if p.global { return add(name, .pooling(p), [x], nil, TensorShape(c: x.shape.c, h: 1, w: 1)) }
        let h = Self.windowOutput(x.shape.h, kernel: p.kernel, stride: p.stride, padBefore: p.padding.top, padAfter: p.padding.bottom, rounding: p.rounding)
        let w = Self.windowOutput(x.shape.w, kernel: p.kernel, stride: p.stride, padBefore: p.padding.left, padAfter: p.padding.right, rounding: p.rounding)
        return add(name, .pooling(p), [x], nil, TensorShape(c: x.shape.c, h: h, w: w))
    }

    public mutating func lrn(_ name: String, _ x: Tensor, _ n: LRN) -> Tensor {
        add(name, .lrn(n), [x], nil, x.shape)
    }

    public mutating func concat(_ name: String, _ xs: [Tensor]) -> Tensor {
        precondition(xs.allSatisfy { $0.shape.h == xs[0].shape.h && $0.shape.w == xs[0].shape.w }, "\(name): spatial sizes differ")
        return add(name, .concat, xs, nil, TensorShape(c: xs.reduce(0) { $0 + $1.shape.c }, h: xs[0].shape.h, w: xs[0].shape.w))
    }

    public mutating func add(_ name: String, _ a: Tensor, _ b: Tensor, activation: Activation? = nil) -> Tensor {
        precondition(a.shape == b.shape, "\(name): shapes \(a.shape) and \(b.shape) differ")
        return add(name, .add, [a, b], activation, a.shape)
    }

    public mutating func softmax(_ name: String, _ x: Tensor) -> Tensor {
        add(name, .softmax, [x], nil, x.shape)
    }

    /// The finished network.
    public func build() -> Network { Network(name: name, layers: layers) }
}
