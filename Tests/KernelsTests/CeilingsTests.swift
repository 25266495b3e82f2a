import Kernels
import Testing

/// The peak-FMA ceiling's arithmetic against the loop's own work.
@Suite("Ceilings: the peak kernel's FLOP count")
struct CeilingsKernelTests {
    /// With seed 1 each step is a = 1 + a x 0 = 1, so after one iteration every lane of every
    /// chain holds 1 and the returned sum counts the lanes the loop updates: the FMAs of one
    /// iteration, each 2 FLOP. The constant the ceiling divides by must agree with it.
    @Test("FLOP per iteration is twice the FMAs the loop performs")
    func flopPerIterationMatchesTheLoop() {
        let fmas = Double(Ceilings.fmaLoop(iterations: 1, seed: 1))
        #expect(fmas == Double(12 * Ceilings.Vector.scalarCount), "12 chains of \(Ceilings.Vector.scalarCount) lanes")
        #expect(Ceilings.flopPerIteration == 2 * fmas)
        // More iterations change nothing in the count per iteration (the lanes stay at 1).
        #expect(Double(Ceilings.fmaLoop(iterations: 5, seed: 1)) == fmas)
    }
}
