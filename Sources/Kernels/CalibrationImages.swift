/// The seeded images quantization is calibrated on, and the ones int8 accuracy is measured on:
/// image i is `NetworkRunner.setDeterministicInput(seed:)` with the seed given here (values
/// uniform in [0, 1)). The two sets never share a seed, and neither uses the input seed of
/// `run`/`profile` (7), so accuracy is never measured on the calibration data.
public enum CalibrationImages {
    /// Images a calibration pass runs by default.
    public static let defaultCount = 8
    /// The seed of calibration image `i` (0-based).
    public static func seed(_ i: Int) -> UInt64 { 1_000 + UInt64(i) }
    /// The seed of accuracy image `i` (0-based).
    public static func accuracySeed(_ i: Int) -> UInt64 { 100_000 + UInt64(i) }
}
