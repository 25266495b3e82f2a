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

typedef float socprof_v16 __attribute__((vector_size(64)));

double socprof_reference_fma_loop(long iterations) {
    // Distinct starting values and inputs the compiler cannot see, so that the 12 chains stay
    // independent (identical chains would be merged into one).
    static volatile float seed = 1e-7f;
    float e = seed;
    socprof_v16 x, y, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11;
    for (int i = 0; i < 16; i++) {
        x[i] = 1.0f - e * (float)i; y[i] = e;
        a0[i] = e * 1; a1[i] = e * 2; a2[i] = e * 3; a3[i] = e * 4; a4[i] = e * 5; a5[i] = e * 6;
        a6[i] = e * 7; a7[i] = e * 8; a8[i] = e * 9; a9[i] = e * 10; a10[i] = e * 11; a11[i] = e * 12;
    }
    for (long n = 0; n < iterations; n++) {
        a0 = a0 * x + y; a1 = a1 * x + y; a2 = a2 * x + y; a3 = a3 * x + y;
        a4 = a4 * x + y; a5 = a5 * x + y; a6 = a6 * x + y; a7 = a7 * x + y;
        a8 = a8 * x + y; a9 = a9 * x + y; a10 = a10 * x + y; a11 = a11 * x + y;
    }
    socprof_v16 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    double total = 0;
    for (int i = 0; i < 16; i++) total += s[i];
    return total;
}

void socprof_clobber(void *p) { __asm__ __volatile__("" : : "r"(p) : "memory"); }
