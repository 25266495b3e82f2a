import Foundation
import Networks

// The profile report's values: what `profile` writes as JSON and every renderer reads. Pure
// data; the profiler fills them (ProfileAnalysis) and Reports draws them.

/// Where a figure's value comes from. The raw values are what JSON reports carry.
public enum FigureSource: String, Codable, Sendable {
    /// Counted or timed on this machine.
    case measured
    /// Derived from measurements by a model (scaled for multiplexing, interpolated, a roofline).
    case estimated
    /// From a datasheet or a board file.
    case datasheet
    /// No value (the figure's `detail` says why).
    case unavailable
}

/// Which side of the roofline's ridge a layer falls on.
public enum Bound: String, Codable, Sendable {
    /// Its intensity is below the ridge: DRAM bandwidth limits it.
    case memory
    /// At or above the ridge: the FMA peak limits it.
    case compute
}

/// Which operational intensity placed a layer under the roofline.
public enum IntensityBasis: String, Codable, Sendable {
    /// Ops over the DRAM bytes counted (OI_e).
    case empirical = "oi_empirical"
    /// Ops over the cost model's minimum bytes (OI_t), when DRAM bytes were not counted.
    case theoretical = "oi_theoretical"
}

/// One figure of a report and where it came from: never a silent zero (docs/profile.md).
public struct Figure: Codable, Sendable {
    /// The value; nil when unavailable.
    public let value: Double?
    /// Where the value comes from.
    public let source: FigureSource
    /// Which events or formula, or why it is unavailable.
    public let detail: String?

    public init(value: Double?, source: FigureSource, detail: String?) {
        self.value = value
        self.source = source
        self.detail = detail
    }

    /// A counted value (unavailable when nil).
    public static func measured(_ v: Double?, _ detail: String) -> Figure { Figure(value: v, source: v == nil ? .unavailable : .measured, detail: detail) }
    /// A value derived from measured ones by a model (scaled for multiplexing, interpolated).
    public static func estimated(_ v: Double, _ detail: String) -> Figure { Figure(value: v, source: .estimated, detail: detail) }
    /// No value, and why.
    public static func unavailable(_ why: String) -> Figure { Figure(value: nil, source: .unavailable, detail: why) }

    enum CodingKeys: String, CodingKey { case value, source, detail }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(value, forKey: .value) // null, never left out
        try c.encode(source, forKey: .source)
        try c.encode(detail, forKey: .detail)
    }
}

/// Per-layer counts of one network run on one cluster.
public struct LayerProfile: Codable, Sendable {
    public let name: String
    public let kind: String
    /// The number format the layer computed in (nil in reports written before precisions: fp32).
    public let precision: Precision?
    public let output: TensorShape
    public let macs: Int64
    public let ops: Int64
    /// The least bytes the layer moves and the part of them that is weights, as stored in its
    /// precision (the cost model's `minBytes` and `paramBytes`; nil in older reports).
    public let min_bytes: Int64?
    public let param_bytes: Int64?
    /// Median over repeats, s.
    public let time_s: Double
    /// Fastest and slowest repeat, s.
    public let time_min_s: Double
    public let time_max_s: Double
    public let gops: Double
    /// ops / minimum bytes (the cost model).
    public let oi_theoretical: Double
    /// ops / measured DRAM bytes, when DRAM bytes were measured.
    public let oi_empirical: Figure
    /// Events summed over the threads, medians over repeats, by event name.
    public let events: [String: Figure]
    /// Metrics from the platform's formulas (cycles, ipc, dram_bytes, ...).
    public let metrics: [String: Figure]
    /// Energy of the layer per image (all sensors), J; unavailable without a power sensor.
    public var energy_j: Figure = .unavailable("no power sensor")
    /// min(peak, OI x DRAM bandwidth) from the measured ceilings, GOP/s.
    public var attainable_gops: Figure = .unavailable("no ceilings")
    /// Below or above the ridge point; nil without ceilings.
    public var bound: Bound? = nil
    /// Which intensity decided the bound.
    public var bound_basis: IntensityBasis? = nil
    /// The kernel's algorithm for convolution and fully connected layers (Kernels' `ConvAlgorithm`:
    /// gemm-1x1, gemm-im2col, winograd-f4x4, depthwise, matrix-vector); absent for other layers
    /// and in reports written before it existed.
    public var algorithm: String? = nil
    /// A residual add run inside the convolution before it (Kernels' `ResidualFusion`): on the
    /// convolution, the add's name; on the add, the convolution's, whose time and counts include
    /// the add (the add's own row measures only its empty hand-off, and its `gops` is 0). Absent
    /// for other layers and in reports written before it existed.
    public var fused_with: String? = nil

    /// Every field, in declaration order.
    public init(name: String, kind: String, precision: Precision? = nil, output: TensorShape, macs: Int64, ops: Int64,
                min_bytes: Int64? = nil, param_bytes: Int64? = nil, time_s: Double,
                time_min_s: Double, time_max_s: Double, gops: Double, oi_theoretical: Double, oi_empirical: Figure,
                events: [String: Figure], metrics: [String: Figure],
                energy_j: Figure = .unavailable("no power sensor"),
                attainable_gops: Figure = .unavailable("no ceilings"), bound: Bound? = nil,
                bound_basis: IntensityBasis? = nil, algorithm: String? = nil, fused_with: String? = nil) {
        self.name = name
        self.kind = kind
        self.precision = precision
        self.output = output
        self.macs = macs
        self.ops = ops
        self.min_bytes = min_bytes
        self.param_bytes = param_bytes
        self.time_s = time_s
        self.time_min_s = time_min_s
        self.time_max_s = time_max_s
        self.gops = gops
        self.oi_theoretical = oi_theoretical
        self.oi_empirical = oi_empirical
        self.events = events
        self.metrics = metrics
        self.energy_j = energy_j
        self.attainable_gops = attainable_gops
        self.bound = bound
        self.bound_basis = bound_basis
        self.algorithm = algorithm
        self.fused_with = fused_with
    }
}

/// The roofline a profile is placed under.
public struct Roofline: Codable, Sendable {
    /// Peak fp32 GFLOP/s of the threads used.
    public let peak_gflops: Double
    /// DRAM read bandwidth, GB/s.
    public let dram_gbs: Double
    /// Where they come from (a measured ceilings file).
    public let source: String
    public init(peak_gflops: Double, dram_gbs: Double, source: String) {
        self.peak_gflops = peak_gflops
        self.dram_gbs = dram_gbs
        self.source = source
    }
    /// Ops per byte where the bandwidth roof meets the compute roof.
    public var ridge: Double { peak_gflops / dram_gbs }

    /// Where a layer of intensity `measured` (OI_e, ops/byte) falls, or `theoretical` (OI_t)
    /// when nothing was measured: attainable GOP/s = min(peak, OI x bandwidth), and the bound.
    public func place(measured: Double?, theoretical: Double) -> (attainable: Double, bound: Bound, basis: IntensityBasis) {
        let oi = measured ?? theoretical
        return (min(peak_gflops, oi * dram_gbs), oi < ridge ? .memory : .compute, measured != nil ? .empirical : .theoretical)
    }
}

/// Energy of the timed runs, from the board's power sensors.
public struct EnergyFigures: Codable, Sendable {
    /// The sensors summed.
    public let sensors: [String]
    /// Mean power while the network ran, W (all sensors).
    public let mean_watts: Figure
    /// Idle power measured before the runs, W.
    public let idle_watts: Figure
    public let joules_per_image: Figure
    /// Energy per image above the idle baseline (what running the network added), J.
    public let joules_per_image_above_idle: Figure
    public let images_per_second_per_watt: Figure
    /// Images/s per watt above the idle baseline.
    public let images_per_second_per_watt_above_idle: Figure

    /// Every field, in declaration order.
    public init(sensors: [String], mean_watts: Figure, idle_watts: Figure, joules_per_image: Figure,
                joules_per_image_above_idle: Figure, images_per_second_per_watt: Figure,
                images_per_second_per_watt_above_idle: Figure) {
        self.sensors = sensors
        self.mean_watts = mean_watts
        self.idle_watts = idle_watts
        self.joules_per_image = joules_per_image
        self.joules_per_image_above_idle = joules_per_image_above_idle
        self.images_per_second_per_watt = images_per_second_per_watt
        self.images_per_second_per_watt_above_idle = images_per_second_per_watt_above_idle
    }
}

/// One layer of the last repeat, as it ran: when, and what each thread counted.
public struct LayerRun: Codable, Sendable {
    public let layer: String
    /// Start and end from the start of the run, s.
    public let start_s: Double
    public let end_s: Double
    /// Per worker thread (index 0 = the calling thread): each event's count in this layer.
    public let per_thread: [[String: Double]]

    /// Every field, in declaration order.
    public init(layer: String, start_s: Double, end_s: Double, per_thread: [[String: Double]]) {
        self.layer = layer
        self.start_s = start_s
        self.end_s = end_s
        self.per_thread = per_thread
    }
}

/// A network profiled layer by layer.
public struct NetworkProfile: Codable, Sendable {
    public let schema: String
    public let schema_version: Int
    public let network: String
    /// The number format the network ran in (nil in reports written before precisions: fp32).
    public var precision: Precision? = nil
    /// Bytes of the network's weights and biases as its layers store them (the cost model's
    /// `totalParamBytes`; nil in older reports).
    public var weight_bytes: Int64? = nil
    /// The int8 GEMM kernel the int8 convolutions ran (`vnni`, `maddubs`, `avx2`, `sdot`, `smull`,
    /// `neon32`, `reference`: Int8Kernel), which sets their weights' range (`maddubs`: -64...64);
    /// nil without int8 convolutions and in older reports.
    public var int8_kernel: String? = nil
    /// For a quantized network: its logits against its fp32 form's on seeded images.
    public var accuracy: QuantizationAccuracy? = nil
    public let placement: String
    public let threads: Int
    public let repeats: Int
    public let warmup: Int
    /// Images per second from the median of whole-network times.
    public let throughput_ips: Double
    public var layers: [LayerProfile]
    public var notes: [String]
    /// The ceilings the layers are placed under, nil when none were measured.
    public var roofline: Roofline? = nil
    /// The last repeat layer by layer, per thread (the basis of `--trace`).
    public var last_run: [LayerRun] = []
    /// Energy per image and per watt, when the board has power sensors.
    public var energy: EnergyFigures? = nil

    /// Places every layer under `roofline`: attainable GOP/s and the bound, from OI_e where it was
    /// measured, else OI_t (and says which).
    public mutating func place(under roofline: Roofline) {
        self.roofline = roofline
        for i in layers.indices {
            let placement = roofline.place(measured: layers[i].oi_empirical.value, theoretical: layers[i].oi_theoretical)
            layers[i].attainable_gops = .estimated(placement.attainable,
                                                   "min(peak \(String(format: "%.1f", roofline.peak_gflops)) GFLOP/s, \(placement.basis.rawValue) x DRAM \(String(format: "%.1f", roofline.dram_gbs)) GB/s), \(roofline.source)")
            layers[i].bound = placement.bound
            layers[i].bound_basis = placement.basis
        }
    }

    /// Every field, in declaration order.
    public init(schema: String, schema_version: Int, network: String, placement: String, threads: Int, repeats: Int,
                warmup: Int, throughput_ips: Double, layers: [LayerProfile], notes: [String],
                roofline: Roofline? = nil, last_run: [LayerRun] = [], energy: EnergyFigures? = nil) {
        self.schema = schema
        self.schema_version = schema_version
        self.network = network
        self.placement = placement
        self.threads = threads
        self.repeats = repeats
        self.warmup = warmup
        self.throughput_ips = throughput_ips
        self.layers = layers
        self.notes = notes
        self.roofline = roofline
        self.last_run = last_run
        self.energy = energy
    }
}
