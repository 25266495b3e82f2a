import Networks

/// The geometry of a convolution's im2col matrix B[(c, ky, kx)][(oy, ox)] =
/// input[c][oy*sh - padTop + ky][ox*sw - padLeft + kx]: the input plane, the kernel, the strides,
/// the top and left padding, and the output's width. The fp32 and int8 im2col operands share it.
public struct Im2colShape: Sendable {
    /// Input plane height and width, elements.
    public let inH: Int, inW: Int
    /// Kernel height and width.
    public let kh: Int, kw: Int
    /// Vertical and horizontal stride.
    public let sh: Int, sw: Int
    /// Padding above and left of the input.
    public let padTop: Int, padLeft: Int
    /// Output width (columns of B run along output rows of this width).
    public let outW: Int

    public init(inH: Int, inW: Int, kh: Int, kw: Int, sh: Int, sw: Int, padTop: Int, padLeft: Int, outW: Int) {
        (self.inH, self.inW, self.kh, self.kw, self.sh, self.sw) = (inH, inW, kh, kw, sh, sw)
        (self.padTop, self.padLeft, self.outW) = (padTop, padLeft, outW)
    }

    /// The geometry of `conv` on an input of shape `input` giving an output `outputWidth` wide.
    public init(_ conv: Convolution, input: TensorShape, outputWidth: Int) {
        self.init(inH: input.h, inW: input.w, kh: conv.kernelH, kw: conv.kernelW, sh: conv.strideH, sw: conv.strideW,
                  padTop: conv.padding.top, padLeft: conv.padding.left, outW: outputWidth)
    }
}
