import Counters
import Experiments
import Testing

/// The figures of a sweep cell, by hand.
@Suite("throughput figures")
struct ThroughputFigureTests {
    @Test("images/s: 1 / the median image time; the spread from the slowest and fastest image")
    func imageRate() {
        let odd = ImageRate(seconds: [0.5, 0.25, 0.2])
        #expect(odd.median == 4 && odd.min == 2 && odd.max == 5 && odd.images == 3)
        // An even count: the mean of the middle two times (0.25 and 0.5), not of their rates.
        let even = ImageRate(seconds: [1, 0.25, 0.5, 0.2])
        #expect(even.median == 1 / 0.375)
    }

    @Test("the frequency seen: moved when it spread or left the pinned one by more than 1 %")
    func frequencySeen() throws {
        let steady = try #require(FrequencySeen(readings: [1400, 1400, 1400], pinned: 1400))
        #expect(!steady.moved && steady.mean == 1400)
        #expect(try #require(FrequencySeen(readings: [1400, 1400, 1300], pinned: 1400)).moved) // throttled
        #expect(try #require(FrequencySeen(readings: [800, 800], pinned: 1400)).moved)         // never reached
        #expect(try #require(FrequencySeen(readings: [1400, 1405], pinned: 1400)).moved == false)
        #expect(try #require(FrequencySeen(readings: [1000, 1800], pinned: nil)).moved)       // governor at work
        #expect(FrequencySeen(readings: [], pinned: 1400) == nil)
    }

    @Test("energy per image from the mean power and the window; above idle only when more than idle was drawn")
    func energy() {
        // 10 images in 2 s at 4 W, idle 1.5 W: 0.8 J/image, 5 images/s / 4 W, and above idle
        // 2.5 W, 0.5 J/image, 2 images/s per W.
        let e = EnergyPerImage(watts: 4, images: 10, seconds: 2, idleWatts: 1.5)
        #expect(e.joulesPerImage == 0.8 && e.imagesPerSecondPerWatt == 1.25)
        #expect(e.wattsAboveIdle == 2.5 && e.joulesPerImageAboveIdle == 0.5 && e.imagesPerSecondPerWattAboveIdle == 2)
        let flat = EnergyPerImage(watts: 0.07, images: 3, seconds: 0.1, idleWatts: 0.07 + 1e-17)
        #expect(flat.imagesPerSecondPerWattAboveIdle == nil && flat.wattsAboveIdle == nil)
        #expect(EnergyPerImage(watts: 4, images: 10, seconds: 2, idleWatts: nil).joulesPerImageAboveIdle == nil)
    }
}

/// `socprof run`'s figures from image times, against hand values.
@Suite("run: image times summarised")
struct ImageTimeSummaryTests {
    @Test("median of an even count is the mean of the middle two; p10 and p90 are nearest-rank; images/s from the median")
    func summary() throws {
        // 10 images of 1..10 ms, shuffled: median 5.5 ms, p10 index round(0.9) = 1 -> 2 ms, p90 index round(8.1) = 8 -> 9 ms.
        let s = try #require(ImageTimeSummary(seconds: [7, 3, 10, 1, 5, 9, 2, 8, 4, 6].map { $0 / 1e3 }))
        #expect(s.images == 10)
        #expect(abs(s.medianMs - 5.5) < 1e-9 && abs(s.minMs - 1) < 1e-9 && abs(s.maxMs - 10) < 1e-9)
        #expect(abs(s.p10Ms - 2) < 1e-9 && abs(s.p90Ms - 9) < 1e-9)
        #expect(abs(s.imagesPerSecond - 1000 / 5.5) < 1e-9)
        #expect(ImageTimeSummary(seconds: []) == nil)
        #expect(Statistics.quantile(sorted: [1, 2, 3], 0.5) == 2 && Statistics.quantile(sorted: [], 0.5) == nil)
    }

    @Test("timing stops when asked and keeps the images done")
    func stops() {
        var n = 0
        let times = ImageTiming.times(iterations: 10, shouldStop: { n >= 3 }) { n += 1 }
        #expect(times.count == 3 && times.allSatisfy { $0 >= 0 })
    }
}
