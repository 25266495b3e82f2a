import Counters
import Kernels

/// Where each pool thread's own counter readings go: one slot per layer boundary, `width`
/// values per thread. Every thread, the caller included, reads its own counters at the end of its
/// share of each job (the pool's job-end hook), so the reads of one boundary run in parallel and
/// a thread's count for a layer runs from the end of its share of the previous layer to the end
/// of its share of this one.
// Sendable: thread t writes only its own slice of each slot (and lastSlot[t]); `slot` is set by the
// caller between jobs and handed to the workers by the pool's mutex; the caller reads a slot only after
// the job that filled it ended.
final class SelfReads: @unchecked Sendable {
    let sets: [CounterSet]
    let slots, enabled, running: UnsafeMutableBufferPointer<UInt64>
    let width: Int, threads: Int, slotCount: Int
    /// The boundary the current job's readings belong to (set by the caller between jobs; the
    /// pool's mutex hands it to the workers).
    var slot = 0
    /// Per thread, the slot it last wrote.
    let lastSlot: UnsafeMutableBufferPointer<Int>
    /// Per slot and thread: the read failed.
    let failed: UnsafeMutableBufferPointer<Bool>
    /// Per thread, the buffer a group read goes through (one object each: no sharing).
    let scratch: [Scratch]
    final class Scratch { var values = [UInt64](repeating: 0, count: 64) }

    init(sets: [CounterSet], slots: UnsafeMutableBufferPointer<UInt64>, enabled: UnsafeMutableBufferPointer<UInt64>,
         running: UnsafeMutableBufferPointer<UInt64>, width: Int, slotCount: Int) {
        self.sets = sets
        self.slots = slots
        self.enabled = enabled
        self.running = running
        self.width = width
        self.slotCount = slotCount
        threads = sets.count
        lastSlot = .allocate(capacity: threads)
        lastSlot.initialize(repeating: 0)
        failed = .allocate(capacity: slotCount * threads)
        failed.initialize(repeating: false)
        scratch = sets.map { _ in Scratch() }
    }

    deinit {
        lastSlot.deallocate()
        failed.deallocate()
    }

    /// The pool's job-end hook: a worker reads its own counters into the current slot.
    static let hook: ThreadPool.JobFunction = { context, t in
        Unmanaged<SelfReads>.fromOpaque(context!)._withUnsafeGuaranteedRef { $0.read(thread: t) }
    }

    func read(thread t: Int, slot: Int? = nil) {
        let slot = slot ?? self.slot
        guard slot < slotCount else { return }
        let base = slot * threads * width + t * width
        let range = base..<(base + width)
        failed[slot * threads + t] = !sets[t].readValues(into: UnsafeMutableBufferPointer(rebasing: slots[range]), enabled: UnsafeMutableBufferPointer(rebasing: enabled[range]),
                                                         running: UnsafeMutableBufferPointer(rebasing: running[range]), scratch: &scratch[t].values)
        lastSlot[t] = slot
    }

    /// A thread that ran no job since slot `from`: its readings there stand for slot `to`.
    func carry(thread t: Int, from: Int, to: Int) {
        let a = from * threads * width + t * width, b = to * threads * width + t * width
        for k in 0..<width {
            slots[b + k] = slots[a + k]
            enabled[b + k] = enabled[a + k]
            running[b + k] = running[a + k]
        }
        failed[to * threads + t] = failed[from * threads + t]
        lastSlot[t] = to
    }
}
