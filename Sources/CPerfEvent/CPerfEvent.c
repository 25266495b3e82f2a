#define _GNU_SOURCE 1
#include <sched.h>
#include "CPerfEvent.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>

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

// MARK: - A child that execs only when told to

pid_t socprof_spawn_waiting(char *const argv[], int *go_fd, int *err_fd) {
    int go[2], err[2];
    // A socket pair, so that the parent's send() can use MSG_NOSIGNAL if the child has died.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) != 0) return -1;
    if (pipe2(err, O_CLOEXEC) != 0) { close(go[0]); close(go[1]); return -1; }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(go[0]); close(go[1]); close(err[0]); close(err[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here to exec.
        char byte;
        ssize_t n;
        close(go[1]);
        close(err[0]);
        do { n = read(go[0], &byte, 1); } while (n < 0 && errno == EINTR);
        if (n != 1) _exit(127); // the parent went away before starting us
        close(go[0]);
        // Dispositions stay as inherited (exec resets handled signals; ignored ones, as under
        // nohup, stay ignored, as they would under a shell). The mask is cleared.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        int e = errno;
        ssize_t w;
        do { w = write(err[1], &e, sizeof e); } while (w < 0 && errno == EINTR);
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }
    close(go[0]);
    close(err[1]);
    *go_fd = go[1];
    *err_fd = err[0];
    return pid;
}

static volatile sig_atomic_t socprof_forward_pid = 0;
static volatile sig_atomic_t socprof_last_signal = 0;
static const int socprof_forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define SOCPROF_NFORWARDED (int)(sizeof socprof_forwarded / sizeof socprof_forwarded[0])
static struct sigaction socprof_saved[SOCPROF_NFORWARDED];

static void socprof_forward_handler(int sig, siginfo_t *info, void *context) {
    (void)context;
    socprof_last_signal = sig;
    // si_code > 0 means the kernel raised it (a terminal's Ctrl-C): the child, in our process
    // group, received it already.
    if (socprof_forward_pid > 0 && (info == NULL || info->si_code <= 0)) {
        int saved = errno;
        kill((pid_t)socprof_forward_pid, sig);
        errno = saved;
    }
}

int socprof_forward_signals(pid_t pid) {
    socprof_forward_pid = pid;
    socprof_last_signal = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = socprof_forward_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int i = 0; i < SOCPROF_NFORWARDED; i++) {
        if (sigaction(socprof_forwarded[i], &sa, &socprof_saved[i]) != 0) return -1;
        sigaddset(&unblock, socprof_forwarded[i]);
    }
    // A parent may have started us with these signals blocked (a libdispatch worker thread
    // blocks them, and the mask is inherited): unblock them on this thread so they arrive.
    return pthread_sigmask(SIG_UNBLOCK, &unblock, NULL) == 0 ? 0 : -1;
}

void socprof_stop_forwarding(void) {
    for (int i = 0; i < SOCPROF_NFORWARDED; i++) sigaction(socprof_forwarded[i], &socprof_saved[i], NULL);
    socprof_forward_pid = 0;
}

int socprof_forwarded_signal(void) { return socprof_last_signal; }

int socprof_spawn_release(int go_fd) {
    char byte = 1;
    ssize_t n;
    do { n = send(go_fd, &byte, 1, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

// MARK: - CPU affinity

int socprof_cpu_setsize(void) { return CPU_SETSIZE; }

int socprof_set_affinity(pid_t tid, const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) { errno = EINVAL; return -1; }
        CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(tid, sizeof(set), &set);
}

int socprof_get_affinity(pid_t tid, int *cpus, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(tid, sizeof(set), &set) != 0) return -1;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) { if (n < max) cpus[n] = c; n++; }
    }
    return n;
}

int socprof_current_cpu(void) { return sched_getcpu(); }

// MARK: - Benchmark reference

#include <time.h>

uint64_t socprof_reference_read_loop(int fd, void *buffer, size_t size, int iterations) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < iterations; i++) {
        if (read(fd, buffer, size) < 0) return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)(t1.tv_nsec - t0.tv_nsec);
}

// MARK: - Interrupts for long runs

static volatile sig_atomic_t socprof_interrupt_flag = 0;
static void socprof_interrupt_handler(int sig) { (void)sig; socprof_interrupt_flag = 1; }

int socprof_catch_interrupts(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = socprof_interrupt_handler;
    sigemptyset(&sa.sa_mask);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return sigaction(SIGINT, &sa, NULL) == 0 && sigaction(SIGTERM, &sa, NULL) == 0 ? 0 : -1;
}

int socprof_interrupted(void) { return socprof_interrupt_flag; }

int socprof_stdout_failed(void) { return fflush(stdout) != 0 || ferror(stdout) != 0; }

// MARK: - Reference FMA loop (GCC vector extensions, built for the host CPU in release)

// Chains of the target's native vector: 192 lane-FMAs (384 FLOP) per iteration on every target,
// as CHAINS independent accumulators x STEPS dependent FMAs each, sized to the register file
// (chains + x + y registers) and to cover the FMA latency (at least 8 chains in flight).
#if defined(__AVX512F__)
#define SOCPROF_FMA_LANES 16  // zmm: 12 of 32 registers
#define SOCPROF_FMA_CHAINS 12
#define SOCPROF_FMA_STEPS 1
#elif defined(__AVX__)
#define SOCPROF_FMA_LANES 8   // ymm: 12 of 16 registers
#define SOCPROF_FMA_CHAINS 12
#define SOCPROF_FMA_STEPS 2
#elif defined(__aarch64__)
#define SOCPROF_FMA_LANES 4   // NEON q: 24 of 32 registers
#define SOCPROF_FMA_CHAINS 24
#define SOCPROF_FMA_STEPS 2
#else
#define SOCPROF_FMA_LANES 4   // SSE, 32-bit NEON: 12 of 16 registers
#define SOCPROF_FMA_CHAINS 12
#define SOCPROF_FMA_STEPS 4
#endif
_Static_assert(SOCPROF_FMA_LANES * SOCPROF_FMA_CHAINS * SOCPROF_FMA_STEPS * 2 == 384,
               "socprof_reference_fma_loop must do 384 FLOP per iteration (Ceilings.referencePeakGFLOPS)");
typedef float socprof_vfma __attribute__((vector_size(SOCPROF_FMA_LANES * 4)));

double socprof_reference_fma_loop(long iterations) {
    // a = a + x*y: the running value is the addend, which ARM's fmla (and x86's vfmadd231ps)
    // accumulates into in place; with a = a*x + y every aarch64 fmla would need a mov first.
    // Inputs the compiler cannot see and distinct starting values, so that the chains stay
    // independent (identical chains would be merged into one). x*y (about 1e-14) is less than half
    // an ulp of every accumulator (1 to 24), so each FMA rounds back to its start: bounded, never
    // denormal, however long it runs.
    static volatile float seed = 1e-7f;
    float e = seed;
    socprof_vfma x, y, a[SOCPROF_FMA_CHAINS];
    for (int i = 0; i < SOCPROF_FMA_LANES; i++) { x[i] = 1.0f - e; y[i] = e * e; }
    for (int c = 0; c < SOCPROF_FMA_CHAINS; c++)
        for (int i = 0; i < SOCPROF_FMA_LANES; i++) a[c][i] = 1.0f + (float)c * (1.0f - e);
    for (long n = 0; n < iterations; n++) {
        for (int s = 0; s < SOCPROF_FMA_STEPS; s++) {
            for (int c = 0; c < SOCPROF_FMA_CHAINS; c++) a[c] = a[c] + x * y;
        }
    }
    socprof_vfma sum = a[0];
    for (int c = 1; c < SOCPROF_FMA_CHAINS; c++) sum += a[c];
    double total = 0;
    for (int i = 0; i < SOCPROF_FMA_LANES; i++) total += sum[i];
    return total;
}

void socprof_clobber(void *p) { __asm__ __volatile__("" : : "r"(p) : "memory"); }
