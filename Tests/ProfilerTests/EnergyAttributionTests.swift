import Profiler
import Testing

/// Energy per layer and per image from windows, against joules integrated by hand.
@Suite("energy attribution: sensor joules over the recorded windows")
struct EnergyAttributionTests {
    let samples = SyntheticRun.samples()

    /// Power rising 1 W per second from 1 W at t = 5 s (where repeat 0 starts): the energy of
    /// [t0, t1] is the integral of 1 + (t - 5), by hand.
    static func ramp(_ w: Window) -> Double? {
        let a = Double(w.start) / 1e9 - 5, b = Double(w.end) / 1e9 - 5
        return (b - a) + (b * b - a * a) / 2
    }

    @Test("each layer's energy is the mean over repeats of the joules in its own windows; shorter than the period it is an estimate")
    func perLayer() throws {
        let record = EnergyRecord(sensors: ["A15", "DRAM"], periodNanoseconds: 10_000_000, idleWatts: nil, joules: Self.ramp)
        var profile = ProfileAnalysis.report(samples, network: SyntheticRun.network, metrics: [], placement: "t")
        EnergyAttribution.apply(record, samples: samples, to: &profile)
        // Layer "a" in repeat r runs from 5 + 0.1 r + 0.001 s for 1, 2, 3, 10 ms.
        var expected = 0.0
        for (r, ms) in [1.0, 2, 3, 10].enumerated() {
            let a = 0.1 * Double(r) + 0.001, b = a + ms / 1000
            expected += (b - a) + (b * b - a * a) / 2
        }
        expected /= 4
        let a = try #require(profile.layers.first?.energy_j)
        try #expect(abs(#require(a.value) - expected) < 1e-12, "\(a)")
        #expect(a.source == .estimated && a.detail?.contains("shorter than the sampling period") == true)
        #expect(a.detail?.hasPrefix("A15 + DRAM, sampled every 10 ms") == true)
        // Without the idle baseline the above-idle figures say why.
        let e = try #require(profile.energy)
        #expect(e.idle_watts.value == nil && e.joules_per_image_above_idle.detail == "no idle baseline")
    }

    @Test("per image: 2 W over runs of 10 to 40 ms with 0.5 W idle: 0.05 J per image, 0.0375 J above idle, 20 and 26.7 images/s per watt")
    func perImage() throws {
        let record = EnergyRecord(sensors: ["board"], periodNanoseconds: 1_000_000, idleWatts: 0.5, joules: { 2 * $0.seconds })
        var profile = ProfileAnalysis.report(samples, network: SyntheticRun.network, metrics: [], placement: "t")
        EnergyAttribution.apply(record, samples: samples, to: &profile)
        let e = try #require(profile.energy)
        // 4 images in 0.1 s at 2 W: 0.2 J, 40 images/s.
        try #expect(abs(#require(e.joules_per_image.value) - 0.05) < 1e-12)
        try #expect(abs(#require(e.mean_watts.value) - 2) < 1e-12)
        try #expect(abs(#require(e.images_per_second_per_watt.value) - 20) < 1e-9)
        try #expect(abs(#require(e.joules_per_image_above_idle.value) - (0.05 - 0.5 / 40)) < 1e-12)
        try #expect(abs(#require(e.images_per_second_per_watt_above_idle.value) - 40 / 1.5) < 1e-9)
        #expect(e.idle_watts.value == 0.5)
        // Layer "b": 2 ms in every repeat, longer than the 1 ms period: measured, 4 mJ.
        let b = profile.layers[1].energy_j
        let bJ = try #require(b.value)
        #expect(b.source == .measured && abs(bJ - 0.004) < 1e-12)
    }

    @Test("readings that do not cover a window give no energy for it, and no energy per image")
    func uncovered() throws {
        // Only windows that end before 5.25 s are covered: repeats 0 to 2.
        let record = EnergyRecord(sensors: ["board"], periodNanoseconds: 1_000_000, idleWatts: .nan,
                                  joules: { $0.end <= 5_250_000_000 ? $0.seconds : nil })
        var profile = ProfileAnalysis.report(samples, network: SyntheticRun.network, metrics: [], placement: "t")
        EnergyAttribution.apply(record, samples: samples, to: &profile)
        #expect(profile.layers[0].energy_j.value == nil && profile.layers[0].energy_j.detail == "the sensors' readings do not cover the layer's runs")
        #expect(profile.energy == nil && profile.notes.contains { $0.contains("no energy per image") })
    }

    @Test("an idle baseline without readings is unavailable, never 0 W")
    func idleWithoutReadings() throws {
        let e = EnergyAttribution.perImage(joules: 1, images: 10, seconds: 1, idleWatts: .nan, sensors: ["x"], detail: "d")
        #expect(e.idle_watts.value == nil && e.idle_watts.detail == "the idle baseline has no readings")
        #expect(e.images_per_second_per_watt_above_idle.value == nil)
        #expect(e.joules_per_image.value == 0.1 && e.images_per_second_per_watt.value == 10)
    }
}
