// Stores to cache lines the other core holds, against stores to lines it does not: the cost
// behind ActivationPlan.threadedRest. Built and run by scripts/bench/shared-stores.
//
// Two threads, pinned to two CPUs. Each round, the other thread first does something to the
// buffer (or nothing), then this thread stores over all of it and the stores are timed:
//   local          nothing: the lines are this core's own, from its last round
//   other wrote    the other core stored over the buffer (its lines modified there)
//   other read     the other core read the buffer after this one wrote it (lines in both)
//   other read, then 4 MiB   as "other read", then the other core reads 4 MiB of its own data
//                  (the buffer's lines pushed out of its L2)
//   other read, streaming    as "other read", this thread's stores non-temporal (x86-64 only)
// Prints the median time of the stores per case over the rounds, their bandwidth and the ratio
// to "local".
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

enum { LOCAL, OTHER_WROTE, OTHER_READ, OTHER_READ_EVICTED, OTHER_READ_STREAMING, CASES };
static const char *names[CASES] = {"local", "other wrote", "other read", "other read, then 4 MiB", "other read, streaming"};

static unsigned char *buffer, *other_data;
static size_t bytes;
static const size_t other_bytes = 4u << 20;
static int rounds, the_case, other_cpu;
static atomic_int turn; // odd: the other thread's turn for round (turn - 1) / 2
static volatile uint64_t sink;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static uint64_t read_all(const unsigned char *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i += 64) s += *(const volatile uint64_t *)(p + i);
    return s;
}

static void stream_all(unsigned char *p, size_t n, int value) {
#if defined(__x86_64__)
    __m128i v = _mm_set1_epi8((char)value);
    for (size_t i = 0; i < n; i += 16) _mm_stream_si128((__m128i *)(p + i), v);
    _mm_sfence();
#else
    memset(p, value, n);
#endif
}

static void *other(void *unused) {
    (void)unused;
    if (pin(other_cpu) != 0) { fprintf(stderr, "shared-stores: cannot run on CPU %d\n", other_cpu); exit(1); }
    for (int r = 0; r < rounds; r++) {
        while (atomic_load(&turn) != 2 * r + 1) {}
        switch (the_case) {
        case OTHER_WROTE: memset(buffer, r, bytes); break;
        case OTHER_READ: case OTHER_READ_STREAMING: sink += read_all(buffer, bytes); break;
        case OTHER_READ_EVICTED: sink += read_all(buffer, bytes); sink += read_all(other_data, other_bytes); break;
        }
        atomic_store(&turn, 2 * r + 2);
    }
    return NULL;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    size_t kib = argc > 1 ? strtoul(argv[1], NULL, 10) : 400;
    rounds = argc > 2 ? atoi(argv[2]) : 50;
    int this_cpu = argc > 3 ? atoi(argv[3]) : 0;
    other_cpu = argc > 4 ? atoi(argv[4]) : 1;
    if (kib == 0 || rounds < 1) { fprintf(stderr, "usage: shared_stores [KiB [rounds [cpu other-cpu]]]\n"); return 2; }
    bytes = kib * 1024;
    buffer = aligned_alloc(64, (bytes + 63) / 64 * 64);
    other_data = aligned_alloc(64, other_bytes);
    double *times = malloc(sizeof(double) * rounds);
    if (!buffer || !other_data || !times) { fprintf(stderr, "shared-stores: out of memory\n"); return 1; }
    memset(other_data, 1, other_bytes);
    if (pin(this_cpu) != 0) { fprintf(stderr, "shared-stores: cannot run on CPU %d\n", this_cpu); return 1; }
    memset(buffer, 0, bytes);
    printf("%zu KiB stored by CPU %d, the other core CPU %d; medians of %d rounds\n", kib, this_cpu, other_cpu, rounds);
    printf("%-26s %10s %10s %8s\n", "case", "us", "GB/s", "x local");
    double local = 0;
    for (the_case = 0; the_case < CASES; the_case++) {
#if !defined(__x86_64__)
        if (the_case == OTHER_READ_STREAMING) continue;
#endif
        pthread_t t;
        atomic_store(&turn, 0);
        if (pthread_create(&t, NULL, other, NULL) != 0) { fprintf(stderr, "shared-stores: no second thread\n"); return 1; }
        for (int r = 0; r < rounds; r++) {
            atomic_store(&turn, 2 * r + 1);
            while (atomic_load(&turn) != 2 * r + 2) {}
            double start = now();
            if (the_case == OTHER_READ_STREAMING) stream_all(buffer, bytes, r + 1);
            else memset(buffer, r + 1, bytes);
            times[r] = now() - start;
        }
        pthread_join(t, NULL);
        qsort(times, rounds, sizeof *times, by_value);
        double median = times[rounds / 2];
        if (the_case == LOCAL) local = median;
        printf("%-26s %10.1f %10.1f %8.2f\n", names[the_case], median * 1e6, bytes / median / 1e9, median / local);
    }
    return 0;
}
