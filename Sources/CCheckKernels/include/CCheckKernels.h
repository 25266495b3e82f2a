#ifndef SOCPROF_CCHECKKERNELS_H
#define SOCPROF_CCHECKKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Kernels with counts known by construction, for `socprof check` (docs/check.md): each counter
/// is compared with what one of these must make it count, in the manner of PAPI's validation tests.

/// Instructions one iteration of `socprof_check_loop` retires on this architecture: 8 on aarch64,
/// 32-bit ARM (ARM or Thumb-2) and x86 (64- and 32-bit), where the loop is inline assembly; 0
/// elsewhere (the loop is then plain C and its count is not known).
unsigned socprof_check_loop_instructions_per_iteration(void);

/// Runs the counted loop `iterations` times (0: none) and returns `iterations`. Each iteration is
/// six dependent integer adds, a decrement that sets the flags and a conditional branch back:
/// 8 instructions, fixed by inline assembly. Outside the loop the function retires fewer than 20
/// instructions (prologue, the zero test, return).
uint32_t socprof_check_loop(uint32_t iterations);

/// Links the `lines` lines of `buffer` (`line_bytes` apart, `line_bytes` >= sizeof(void *)) into
/// one cycle in a pseudo-random order (Sattolo's shuffle from `seed`): the first pointer of each
/// line holds the address of the next line. Every line is on the cycle once, so following it
/// `lines` times visits each line exactly once, in an order no prefetcher predicts. Returns the
/// start of the cycle, or NULL when `lines` is 0 or no scratch memory could be had.
void *socprof_check_chase_init(void *buffer, size_t lines, size_t line_bytes, uint64_t seed);

/// Follows the chain from `start` `steps` times (one dependent load each) and returns where it
/// stopped.
void *socprof_check_chase(void *start, size_t steps);

/// Reads one 32-bit word every `stride` bytes of `buffer` (`bytes` long), in address order (a
/// sequential stream, one load per line when `stride` is the line size); returns their sum so
/// the loads cannot be left out.
uint64_t socprof_check_stream(const void *buffer, size_t bytes, size_t stride);

#endif
