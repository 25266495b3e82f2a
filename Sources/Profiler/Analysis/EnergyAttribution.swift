import Foundation
import Platform
import ProfileModel

/// What the power sensors gave during a profile, as the analysis needs it: the joules over any
/// window, and how the sensors were sampled.
public struct EnergyRecord {
    /// The sensors' labels, summed.
    public let sensors: [String]
    /// Sampling period, ns.
    public let periodNanoseconds: UInt64
    /// Idle power measured before the runs, W, summed over the sensors: nil when no baseline was
    /// measured, NaN when a sensor had no readings during it.
    public let idleWatts: Double?
    /// Joules of all sensors over a window on the monotonic clock; nil when the readings do not
    /// cover it.
    public let joules: (Window) -> Double?

    public init(sensors: [String], periodNanoseconds: UInt64, idleWatts: Double?, joules: @escaping (Window) -> Double?) {
        self.sensors = sensors
        self.periodNanoseconds = periodNanoseconds
        self.idleWatts = idleWatts
        self.joules = joules
    }

    /// The sampler's readings (after `stop`), with the idle baseline measured before the runs.
    public init(sampler: EnergySampler, idle: [SensorEnergy]) {
        self.init(sensors: sampler.sensors.map(\.label), periodNanoseconds: sampler.periodNanoseconds,
                  idleWatts: idle.isEmpty ? nil : idle.reduce(0.0) { $0 + ($1.meanWatts ?? .nan) },
                  joules: { w in
                      var sum = 0.0
                      for k in sampler.sensors.indices {
                          guard let j = sampler.joules(sensor: k, from: w.start, to: w.end) else { return nil }
                          sum += j
                      }
                      return sum
                  })
    }
}

/// Energy per layer and per image from the sensors' joules over the windows a profile recorded.
/// Pure: the sensors are reached only through `EnergyRecord.joules`.
public enum EnergyAttribution {
    /// Fills each layer's `energy_j` (the mean over the completed repeats of the joules in its
    /// window) and the profile's `energy` (per image, per watt, above idle).
    public static func apply(_ record: EnergyRecord, samples: LayerSamples, to result: inout NetworkProfile) {
        let completed = samples.completed
        guard completed > 0, result.layers.count == samples.layers - 1 else { return }
        let detail = "\(record.sensors.joined(separator: " + ")), sampled every \(record.periodNanoseconds / 1_000_000) ms; per layer: power interpolated over its windows in \(completed) repeats"
        let period = Double(record.periodNanoseconds) / 1e9
        for i in 1..<samples.layers {
            let per = (0..<completed).map { record.joules(samples.windows[$0][i]) }
            if per.allSatisfy({ $0 != nil }) {
                // A layer shorter than the sampling period gets interpolated power: an estimate.
                let short = result.layers[i - 1].time_s < period
                result.layers[i - 1].energy_j = Figure(value: per.reduce(0) { $0 + $1! } / Double(completed), source: short ? .estimated : .measured,
                                                       detail: detail + (short ? "; shorter than the sampling period" : ""))
            } else {
                result.layers[i - 1].energy_j = .unavailable("the sensors' readings do not cover the layer's runs")
            }
        }
        let runs = samples.runWindows.prefix(completed)
        let runJ = runs.map(record.joules)
        let seconds = runs.reduce(0.0) { $0 + $1.seconds }
        guard runJ.allSatisfy({ $0 != nil }), seconds > 0, runJ.reduce(0, { $0 + $1! }) > 0 else {
            result.notes.append("the power sensors' readings do not cover the runs, or read 0 W: no energy per image")
            return
        }
        result.energy = perImage(joules: runJ.reduce(0) { $0 + $1! }, images: completed, seconds: seconds, idleWatts: record.idleWatts,
                                 sensors: record.sensors, detail: detail)
    }

    /// Energy per image and images/s per watt from `joules` over `images` images in `seconds`,
    /// with and without the idle power.
    public static func perImage(joules: Double, images: Int, seconds: Double, idleWatts: Double?, sensors: [String], detail: String) -> EnergyFigures {
        let perImage = joules / Double(images)
        let watts = joules / seconds
        let ips = Double(images) / seconds
        let idle = idleWatts.flatMap { $0.isFinite ? $0 : nil }
        let idleFigure: Figure = idleWatts.map { $0.isFinite ? .measured($0, "idle baseline before the runs") : .unavailable("the idle baseline has no readings") }
            ?? .unavailable("no idle baseline measured")
        let above = idle.map { perImage - $0 / ips }
        return EnergyFigures(
            sensors: sensors,
            mean_watts: .measured(watts, detail),
            idle_watts: idleFigure,
            joules_per_image: .measured(perImage, "all sensors, including idle power"),
            // Rounding below 0 is 0; a real deficit means the power varied more than the network added.
            joules_per_image_above_idle: above.map { $0 >= -1e-9 * perImage ? .measured(max(0, $0), "minus the idle baseline")
                                                             : .unavailable("below the idle baseline: the power varied more than the network added") } ?? .unavailable("no idle baseline"),
            images_per_second_per_watt: .measured(ips / watts, "images/s over mean power, including idle power"),
            images_per_second_per_watt_above_idle: idle.flatMap { watts > $0 ? .measured(ips / (watts - $0), "images/s over power above the idle baseline") : nil }
                ?? .unavailable("no idle baseline, or power not above it"))
    }
}
