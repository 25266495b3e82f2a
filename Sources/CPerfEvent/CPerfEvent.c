#include "CPerfEvent.h"

// MARK: - User-space counter reads (after tools/lib/perf/mmap.c, perf_mmap__read_self)

// The start of struct perf_event_mmap_page as the kernel lays it out (a stable ABI). A copy, so
// that uapi headers older than 5.12 (no time_cycles, time_mask, cap_user_time_short) still build;
// on such kernels those fields are reserved zeros and the capability bit is clear.
struct socprof_mmap_page {
    uint32_t version, compat_version, lock, index;
    int64_t offset;
    uint64_t time_enabled, time_running;
    uint64_t capabilities; // bit 2 cap_user_rdpmc, 3 cap_user_time, 4 cap_user_time_zero, 5 cap_user_time_short
    uint16_t pmc_width, time_shift;
    uint32_t time_mult;
    uint64_t time_offset, time_zero;
    uint32_t size, reserved_1;
    uint64_t time_cycles, time_mask;
};
#define SOCPROF_CAP_USER_RDPMC (1ull << 2)
#define SOCPROF_CAP_USER_TIME (1ull << 3)
#define SOCPROF_CAP_USER_TIME_SHORT (1ull << 5)
_Static_assert(__builtin_offsetof(struct socprof_mmap_page, capabilities) == 40, "perf_event_mmap_page layout");
_Static_assert(__builtin_offsetof(struct socprof_mmap_page, time_mask) == 88, "perf_event_mmap_page layout");

#define SOCPROF_READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define SOCPROF_BARRIER() __asm__ __volatile__("" ::: "memory")

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t socprof_read_pmc(uint32_t counter) {
    uint32_t lo, hi;
    __asm__ __volatile__("rdpmc" : "=a"(lo), "=d"(hi) : "c"(counter));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t socprof_read_timestamp(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
#define SOCPROF_HAVE_USER_PMC 1
#elif defined(__aarch64__)
#define SOCPROF_PMEVCNTR(n) \
    case n: __asm__ __volatile__("mrs %0, pmevcntr" #n "_el0" : "=r"(v)); break;
static inline uint64_t socprof_read_pmc(uint32_t counter) {
    uint64_t v = 0;
    switch (counter) {
    SOCPROF_PMEVCNTR(0) SOCPROF_PMEVCNTR(1) SOCPROF_PMEVCNTR(2) SOCPROF_PMEVCNTR(3)
    SOCPROF_PMEVCNTR(4) SOCPROF_PMEVCNTR(5) SOCPROF_PMEVCNTR(6) SOCPROF_PMEVCNTR(7)
    SOCPROF_PMEVCNTR(8) SOCPROF_PMEVCNTR(9) SOCPROF_PMEVCNTR(10) SOCPROF_PMEVCNTR(11)
    SOCPROF_PMEVCNTR(12) SOCPROF_PMEVCNTR(13) SOCPROF_PMEVCNTR(14) SOCPROF_PMEVCNTR(15)
    SOCPROF_PMEVCNTR(16) SOCPROF_PMEVCNTR(17) SOCPROF_PMEVCNTR(18) SOCPROF_PMEVCNTR(19)
    SOCPROF_PMEVCNTR(20) SOCPROF_PMEVCNTR(21) SOCPROF_PMEVCNTR(22) SOCPROF_PMEVCNTR(23)
    SOCPROF_PMEVCNTR(24) SOCPROF_PMEVCNTR(25) SOCPROF_PMEVCNTR(26) SOCPROF_PMEVCNTR(27)
    SOCPROF_PMEVCNTR(28) SOCPROF_PMEVCNTR(29) SOCPROF_PMEVCNTR(30)
    case 31: __asm__ __volatile__("mrs %0, pmccntr_el0" : "=r"(v)); break; // cycle counter
    default: break;
    }
    return v;
}
static inline uint64_t socprof_read_timestamp(void) {
    uint64_t v;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
    return v;
}
#define SOCPROF_HAVE_USER_PMC 1
#else
// 32-bit ARM: mainline kernels do not enable user access to the PMU (PMUSERENR), so read(2).
#define SOCPROF_HAVE_USER_PMC 0
#endif

#if SOCPROF_HAVE_USER_PMC
// (a * mul) >> shift without overflow, as the kernel's mul_u64_u32_shr.
static inline uint64_t socprof_mul_u64_u32_shr(uint64_t a, uint32_t mul, unsigned int shift) {
    uint32_t ah = (uint32_t)(a >> 32), al = (uint32_t)a;
    uint64_t ret = ((uint64_t)al * mul) >> shift;
    if (ah) ret += ((uint64_t)ah * mul) << (32 - shift);
    return ret;
}
#endif

int socprof_mmap_can_rdpmc(const void *page) {
#if SOCPROF_HAVE_USER_PMC
    const struct socprof_mmap_page *pc = page;
    return page && (SOCPROF_READ_ONCE(pc->capabilities) & SOCPROF_CAP_USER_RDPMC) ? 1 : 0;
#else
    (void)page;
    return 0;
#endif
}

int socprof_mmap_read_self(const void *page, uint64_t *value, uint64_t *enabled, uint64_t *running) {
#if SOCPROF_HAVE_USER_PMC
    const struct socprof_mmap_page *pc = page;
    uint32_t seq, idx, time_mult = 0;
    uint16_t time_shift = 0;
    uint64_t cnt, cyc = 0, time_offset = 0, time_cycles = 0, time_mask = ~(uint64_t)0;
    uint64_t ena, run;

    if (!pc || !(SOCPROF_READ_ONCE(pc->capabilities) & SOCPROF_CAP_USER_RDPMC)) return -1;
    do {
        seq = SOCPROF_READ_ONCE(pc->lock);
        SOCPROF_BARRIER();
        ena = SOCPROF_READ_ONCE(pc->time_enabled);
        run = SOCPROF_READ_ONCE(pc->time_running);
        uint64_t caps = SOCPROF_READ_ONCE(pc->capabilities);
        if ((caps & SOCPROF_CAP_USER_TIME) && ena != run) {
            cyc = socprof_read_timestamp();
            time_mult = SOCPROF_READ_ONCE(pc->time_mult);
            time_shift = SOCPROF_READ_ONCE(pc->time_shift);
            time_offset = SOCPROF_READ_ONCE(pc->time_offset);
            if (caps & SOCPROF_CAP_USER_TIME_SHORT) {
                time_cycles = SOCPROF_READ_ONCE(pc->time_cycles);
                time_mask = SOCPROF_READ_ONCE(pc->time_mask);
            }
        }
        idx = SOCPROF_READ_ONCE(pc->index);
        cnt = (uint64_t)SOCPROF_READ_ONCE(pc->offset);
        if (!idx) return -1; // not on a hardware counter right now
        {
            uint16_t width = SOCPROF_READ_ONCE(pc->pmc_width);
            int64_t evcnt = (int64_t)socprof_read_pmc(idx - 1);
            if (width > 0 && width < 64) {
                evcnt = (int64_t)((uint64_t)evcnt << (64 - width));
                evcnt >>= 64 - width;
            }
            cnt += (uint64_t)evcnt;
        }
        SOCPROF_BARRIER();
    } while (SOCPROF_READ_ONCE(pc->lock) != seq);

    if (ena != run) {
        cyc = time_cycles + ((cyc - time_cycles) & time_mask);
        uint64_t delta = time_offset + socprof_mul_u64_u32_shr(cyc, time_mult, time_shift);
        ena += delta;
        run += delta;
    }
    *value = cnt;
    *enabled = ena;
    *running = run;
    return 0;
#else
    (void)page; (void)value; (void)enabled; (void)running;
    return -1;
#endif
}

