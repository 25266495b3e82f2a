import Counters
import Foundation
import Kernels
import LinuxSystem
import Networks
import Platform

/// Images per second of a run, from the time of each image: the median (the figure reported) and
/// the spread.
public struct ImageRate: Sendable, Codable, Equatable {
    /// 1 / the median image time, images/s.
    public let median: Double
    /// 1 / the slowest and the fastest image's time, images/s.
    public let min: Double
    public let max: Double
    /// Images timed.
    public let images: Int

    /// From image times in seconds (at least one).
    public init(seconds times: [Double]) {
        precondition(!times.isEmpty, "an image rate needs at least one image")
        self.median = 1 / Statistics.median(times)!
        self.min = 1 / times.max()!
        self.max = 1 / times.min()!
        self.images = times.count
    }
}

/// The frequency a policy reported during a run (`scaling_cur_freq`, read after each image), MHz.
public struct FrequencySeen: Sendable, Codable, Equatable {
    public let mean: Double
    public let min: Double
    public let max: Double
    /// The frequency pinned, if one was.
    public let pinned: Double?
    /// True when it moved during the run or differed from the pinned one by more than 1 %
    /// (thermal throttling is common on these boards).
    public let moved: Bool

    public init?(readings: [Double], pinned: Double?) {
        guard let lo = readings.min(), let hi = readings.max() else { return nil }
        mean = readings.reduce(0, +) / Double(readings.count)
        min = lo
        max = hi
        self.pinned = pinned
        let reference = pinned ?? hi
        moved = hi - lo > 0.01 * reference || (pinned.map { abs(hi - $0) > 0.01 * $0 || abs(lo - $0) > 0.01 * $0 } ?? false)
    }
}

/// Power and energy per image over a run, from the unit's sensors summed.
public struct EnergyPerImage: Sendable, Codable, Equatable {
    /// Mean power over the timed images, W.
    public let watts: Double
    /// Energy per image, J (the window's energy over its images).
    public let joulesPerImage: Double
    /// Images per second per watt: images/s over the window divided by `watts`.
    public let imagesPerSecondPerWatt: Double
    /// The same above the idle power measured before the run (nil without a baseline, or when
    /// the run drew no more than idle).
    public let wattsAboveIdle: Double?
    public let joulesPerImageAboveIdle: Double?
    public let imagesPerSecondPerWattAboveIdle: Double?

    enum CodingKeys: String, CodingKey {
        case watts, joulesPerImage = "joules_per_image", imagesPerSecondPerWatt = "images_per_second_per_watt"
        case wattsAboveIdle = "watts_above_idle", joulesPerImageAboveIdle = "joules_per_image_above_idle"
        case imagesPerSecondPerWattAboveIdle = "images_per_second_per_watt_above_idle"
    }

    /// From the mean power `watts` over the `seconds` that `images` images took, and the idle
    /// power `idleWatts`.
    public init(watts: Double, images: Int, seconds: Double, idleWatts: Double?) {
        self.watts = watts
        joulesPerImage = watts * seconds / Double(images)
        let ips = Double(images) / seconds
        imagesPerSecondPerWatt = ips / watts
        // Above idle only when the run drew measurably more (not float noise on a constant reading).
        if let idle = idleWatts, watts - idle > 1e-6 * watts {
            wattsAboveIdle = watts - idle
            joulesPerImageAboveIdle = (watts - idle) * seconds / Double(images)
            imagesPerSecondPerWattAboveIdle = ips / (watts - idle)
        } else {
            wattsAboveIdle = nil
            joulesPerImageAboveIdle = nil
            imagesPerSecondPerWattAboveIdle = nil
        }
    }
}

/// What one network did on one unit.
public struct ThroughputFigures: Sendable, Codable, Equatable {
    public let rate: ImageRate
    /// Images over the timed window's length, images/s (what the energy figures divide by).
    public let windowImagesPerSecond: Double
    public let frequency: FrequencySeen?
    public let energy: EnergyPerImage?

    enum CodingKeys: String, CodingKey {
        case rate, windowImagesPerSecond = "window_images_per_second", frequency, energy
    }
}

/// Times a network image by image on a pool, reading the policy's frequency after each image and
/// the sensors over the timed images.
public enum Throughput {
    /// Runs `warmup` untimed images, then `images` timed ones.
    /// - Parameters:
    ///   - frequencyFile: `scaling_cur_freq` of the unit's policy, relative to `root`, if any.
    ///   - sampler: the unit's sensors, sampled over the timed images.
    ///   - progress: called after each timed image with its index (from 1).
    /// - Returns: nil when stopped before the last image.
    public static func measure(runner: NetworkRunner, warmup: Int, images: Int, root: SystemRoot, frequencyFile: String?, pinnedMHz: Double?,
                               sampler: EnergySampler?, idleWatts: Double?, progress: (Int) -> Void = { _ in },
                               shouldStop: () -> Bool = { false }) -> ThroughputFigures? {
        for _ in 0..<warmup {
            if shouldStop() { return nil }
            _ = runner.run()
        }
        var times: [Double] = []
        times.reserveCapacity(images)
        var freqs: [Double] = []
        sampler?.start()
        let t0 = DispatchTime.now().uptimeNanoseconds
        for i in 0..<images {
            if shouldStop() { _ = sampler?.stop(); return nil }
            let a = DispatchTime.now().uptimeNanoseconds
            _ = runner.run()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - a) / 1e9)
            if let f = frequencyFile, let khz = root.readInt(f) { freqs.append(Double(khz) / 1000) }
            progress(i + 1)
        }
        let window = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let energy: EnergyPerImage?
        // The sensors' mean power over their interval (which holds the window) times the window.
        if let readings = sampler?.stop(), !readings.isEmpty, readings.allSatisfy({ $0.meanWatts != nil }) {
            energy = EnergyPerImage(watts: readings.reduce(0) { $0 + $1.meanWatts! }, images: images, seconds: window, idleWatts: idleWatts)
        } else {
            energy = nil
        }
        return ThroughputFigures(rate: ImageRate(seconds: times), windowImagesPerSecond: Double(images) / window,
                                 frequency: FrequencySeen(readings: freqs, pinned: pinnedMHz), energy: energy)
    }
}
