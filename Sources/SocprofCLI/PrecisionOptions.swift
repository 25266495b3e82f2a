import ArgumentParser
import Kernels
import Networks

extension Precision: ExpressibleByArgument {}

/// `--precision` and `--calibration-images`: the number format a network runs in
/// (`Network.quantized`).
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("fp32; int8 (int8 weights per channel, uint8 activations per tensor calibrated on seeded images, int32 sums; the first and last weighted layers, LRN and softmax in fp32 with quantize/dequantize layers between); or int8-weights (int8 weights expanded to fp32 as each layer runs).", valueName: "precision"))
    var precision: Precision = .fp32

    @Flag(help: "With --precision int8: the first and last weighted layers in int8 too (TFLite's full-integer quantization; the image is quantized and the logits dequantized).")
    var int8Ends = false

    @Option(help: ArgumentHelp("With --precision int8: seeded images the activation ranges are calibrated on (min/max).", valueName: "n"))
    var calibrationImages: Int = CalibrationImages.defaultCount

    @Option(help: ArgumentHelp("With --precision int8 or int8-weights: seeded images (not the calibration ones) on which the quantized network's logits are compared with fp32's (top-1 agreement, cosine); 0 skips it.", valueName: "n"))
    var accuracyImages: Int = 100

    func validate() throws {
        if int8Ends && precision != .int8 { throw ValidationError("--int8-ends goes with --precision int8.") }
        guard (1...10_000).contains(calibrationImages) else { throw ValidationError("--calibration-images \(calibrationImages) must be 1 to 10000.") }
        guard (0...100_000).contains(accuracyImages) else { throw ValidationError("--accuracy-images \(accuracyImages) must be 0 to 100000.") }
    }

    /// The accuracy of `runner`'s quantized network against its fp32 form on a runner of its own
    /// (same pool, same weight seed), over `--accuracy-images` images; nil for fp32 or 0 images.
    /// `progress` gets the images done.
    func accuracy(of runner: NetworkRunner, seed: UInt64 = 1, progress: ((Int) -> Void)? = nil) -> QuantizationAccuracy? {
        guard runner.network.precision != .fp32, accuracyImages > 0 else { return nil }
        let reference = NetworkRunner(network: runner.network.fp32Form, pool: runner.pool, seed: seed)
        return QuantizationAccuracy.measure(reference: reference, quantized: runner, images: accuracyImages, progress: progress)
    }

    /// `network` in the chosen precision.
    func apply(to network: Network) -> Network { network.quantized(precision, quantizeEnds: int8Ends) }
}
