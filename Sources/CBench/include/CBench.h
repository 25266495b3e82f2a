// C shim for socprof's benchmarks: the hand-written reference loops printed beside socprof's own
// figures, and an optimisation barrier.
#ifndef SOCPROF_CBENCH_H
#define SOCPROF_CBENCH_H

#include <stddef.h>
#include <stdint.h>

// MARK: - Benchmark reference (CBench.c)

/// `iterations` read(2)s of `fd` into `buffer` in a plain C loop; returns the total ns, or 0 if
/// a read failed. The reference `socprof bench counters` prints beside the Swift read path.
uint64_t socprof_reference_read_loop(int fd, void *buffer, size_t size, int iterations);

/// A hand-written FMA loop: `iterations` x 12 independent 16-lane fused multiply-adds (384 FLOP
/// per iteration), the reference `socprof ceilings` prints beside its own peak. Returns a sum so
/// that the work is not optimised away.
double socprof_reference_fma_loop(long iterations);

/// Tells the optimiser that memory at `p` may have changed (an out-of-line call it cannot see
/// into), so that repeated reads of an unchanged buffer in a benchmark are not merged.
void socprof_clobber(void *p);

#endif
