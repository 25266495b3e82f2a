// Kernels with known counts for `socprof check` (docs/check.md).
//
// The counted loop is inline assembly so that the compiler cannot change what one iteration
// retires. How its count was verified: this source compiled for each target and the object
// disassembled, and the instructions from the loop's label to its backward branch counted:
//
//   clang -O2 -c --target=x86_64-linux-gnu check_kernels.c && llvm-objdump -d check_kernels.o
//   clang -O2 -c --target=aarch64-linux-gnu --sysroot=<arm64 libc> ...
//   clang -O2 -c --target=armv7a-linux-gnueabihf --sysroot=<armhf libc> ...          (ARM state)
//   clang -O2 -c --target=armv7a-linux-gnueabihf --sysroot=<armhf libc> -mthumb ...  (Thumb-2)
//   clang -O2 -c --target=i686-linux-gnu -ffreestanding ... (a stub stdlib.h: no i386 libc here)
//   and the same at -O0 for x86_64 and aarch64
//
// Every listing shows the loop as exactly the 8 instructions written below (6 x add, then
// sub/subs, then jne/b.ne/bne back to the first add). Outside the loop socprof_check_loop retires
// 4 to 6 instructions at -O2 (the zero test, moving the operands, return) and 17 at -O0, against
// 8 x iterations in the loop. The listings are in docs/check.md.

#include "CCheckKernels.h"

#include <stdlib.h>

#if defined(__aarch64__) || defined(__arm__) || defined(__x86_64__) || defined(__i386__)
#define SOCPROF_COUNTED_LOOP 1
#else
#define SOCPROF_COUNTED_LOOP 0
#endif

unsigned socprof_check_loop_instructions_per_iteration(void) {
    return SOCPROF_COUNTED_LOOP ? 8u : 0u;
}

__attribute__((noinline)) uint32_t socprof_check_loop(uint32_t iterations) {
    if (iterations == 0) return 0;
#if defined(__aarch64__)
    uint64_t n = iterations, a = 0;
    __asm__ volatile(
        "1:\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "subs %[n], %[n], #1\n\t"
        "b.ne 1b\n\t"
        : [n] "+r"(n), [a] "+r"(a)
        :
        : "cc");
#elif defined(__arm__)
    // Unified syntax: the same source assembles in ARM and in Thumb-2 state (add.w there).
    uint32_t n = iterations, a = 0;
    __asm__ volatile(
        "1:\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "add  %[a], %[a], #1\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne  1b\n\t"
        : [n] "+r"(n), [a] "+r"(a)
        :
        : "cc");
#elif defined(__x86_64__) || defined(__i386__)
    // Retired-instruction counts count a macro-fused sub/jnz pair as two instructions.
    uint32_t n = iterations, a = 0;
    __asm__ volatile(
        "1:\n\t"
        "add $1, %[a]\n\t"
        "add $1, %[a]\n\t"
        "add $1, %[a]\n\t"
        "add $1, %[a]\n\t"
        "add $1, %[a]\n\t"
        "add $1, %[a]\n\t"
        "sub $1, %[n]\n\t"
        "jnz 1b\n\t"
        : [n] "+r"(n), [a] "+r"(a)
        :
        : "cc");
#else
    // No assembly for this architecture: a loop whose count depends on the compiler
    // (socprof_check_loop_instructions_per_iteration says 0).
    volatile uint32_t a = 0;
    for (uint32_t i = 0; i < iterations; i++) a += 1;
#endif
    return iterations;
}

// xorshift64* (Vigna): a small deterministic generator, enough to scatter lines.
static uint64_t next_random(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void *socprof_check_chase_init(void *buffer, size_t lines, size_t line_bytes, uint64_t seed) {
    if (buffer == NULL || lines == 0 || line_bytes < sizeof(void *)) return NULL;
    if (lines > (size_t)-1 / sizeof(size_t)) return NULL;
    size_t *next = malloc(lines * sizeof(size_t));
    if (next == NULL) return NULL;
    for (size_t i = 0; i < lines; i++) next[i] = i;
    // Sattolo's shuffle: i -> next[i] is then one cycle through every line.
    uint64_t state = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
    for (size_t i = lines - 1; i > 0; i--) {
        size_t j = (size_t)(next_random(&state) % (uint64_t)i); // 0 <= j < i
        size_t t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    unsigned char *base = buffer;
    for (size_t i = 0; i < lines; i++) {
        *(void **)(base + i * line_bytes) = base + next[i] * line_bytes;
    }
    free(next);
    return buffer;
}

__attribute__((noinline)) void *socprof_check_chase(void *start, size_t steps) {
    void **p = start;
    while (steps-- > 0) p = (void **)*p;
    return p;
}

__attribute__((noinline)) uint64_t socprof_check_stream(const void *buffer, size_t bytes, size_t stride) {
    const volatile unsigned char *base = buffer;
    uint64_t sum = 0;
    if (stride < sizeof(uint32_t)) stride = sizeof(uint32_t);
    for (size_t offset = 0; offset + sizeof(uint32_t) <= bytes; offset += stride) {
        sum += *(const volatile uint32_t *)(base + offset);
    }
    return sum;
}
