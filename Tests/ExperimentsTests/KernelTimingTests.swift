import Foundation
import LinuxSystem
import Testing
@testable import Experiments

@Suite("Kernel timing")
struct KernelTimingTests {
    @Test("the warm-up calls the work until its time has passed, at least once")
    func warmUp() {
        var calls = 0
        let t0 = MonotonicClock.nanoseconds()
        let made = KernelTiming.warmUp(seconds: 0.05) {
            calls += 1
            usleep(5_000)
        }
        let elapsed = Double(MonotonicClock.nanoseconds() - t0) / 1e9
        #expect(made == calls)
        #expect(elapsed >= 0.05, "returned after \(elapsed) s")
        // No call starts once the time has passed, and each takes 5 ms or more: 11 calls at most.
        #expect(calls >= 1 && calls <= 11)
        #expect(KernelTiming.warmUp(seconds: 0) { calls += 1 } == 1)
    }

    @Test("samples: one sample a repetition, the work called at least once more (the warm-up)")
    func samples() {
        var calls = 0
        let samples = KernelTiming(repetitions: 3).samples { calls += 1 }
        #expect(samples.count == 3)
        #expect(calls >= 4)
        #expect(samples.allSatisfy { $0.wall >= 0 && $0.cpu >= 0 })
    }
}
