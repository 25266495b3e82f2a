// C shim for socprof: only what Swift cannot call directly (the variadic syscall(), ioctl request
// macros, CPU_SET macros, volatile seqlock reads of the perf mmap page, fork/exec).
#ifndef SOCPROF_CPERFEVENT_H
#define SOCPROF_CPERFEVENT_H

// No _GNU_SOURCE here: it would change glibc's struct definitions for every Swift module that
// imports this one. The CPU_SET users live in CPerfEvent.c, which defines it.
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/perf_event.h>

// MARK: - perf_event_open and its ioctls

/// perf_event_open(2). Returns the new fd, or -1 with errno set.
static inline int socprof_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu,
                                          int group_fd, unsigned long flags) {
    return (int)syscall(__NR_perf_event_open, attr, pid, cpu, group_fd, flags);
}

/// PERF_EVENT_IOC_ENABLE; with `group` non-zero, PERF_IOC_FLAG_GROUP (the whole group).
static inline int socprof_perf_enable(int fd, int group) {
    return ioctl(fd, PERF_EVENT_IOC_ENABLE, group ? PERF_IOC_FLAG_GROUP : 0);
}
/// PERF_EVENT_IOC_DISABLE; with `group` non-zero, PERF_IOC_FLAG_GROUP.
static inline int socprof_perf_disable(int fd, int group) {
    return ioctl(fd, PERF_EVENT_IOC_DISABLE, group ? PERF_IOC_FLAG_GROUP : 0);
}
/// PERF_EVENT_IOC_RESET; with `group` non-zero, PERF_IOC_FLAG_GROUP.
static inline int socprof_perf_reset(int fd, int group) {
    return ioctl(fd, PERF_EVENT_IOC_RESET, group ? PERF_IOC_FLAG_GROUP : 0);
}
/// PERF_EVENT_IOC_ID: the kernel's id of the event behind `fd`.
static inline int socprof_perf_id(int fd, uint64_t *id) {
    return ioctl(fd, PERF_EVENT_IOC_ID, id);
}

/// The size this header's struct perf_event_attr has (PERF_ATTR_SIZE_VER*).
static inline uint32_t socprof_perf_attr_size(void) { return (uint32_t)sizeof(struct perf_event_attr); }

// MARK: - Threads and CPU affinity

/// gettid(2), which older glibc does not wrap.
static inline pid_t socprof_gettid(void) { return (pid_t)syscall(SYS_gettid); }

/// A hint to the CPU inside a spin-wait loop (x86 `pause`, ARM `yield`): lets a sibling hardware
/// thread run and saves power while a pool thread waits a few microseconds for the next job.
static inline void socprof_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
    __asm__ __volatile__("yield");
#endif
}

/// The number of CPUs a cpu_set_t can name (CPU_SETSIZE).
int socprof_cpu_setsize(void);

/// sched_setaffinity(2) for thread `tid` (0: the caller) to the `count` CPUs in `cpus`.
/// Returns 0, or -1 with errno (EINVAL also for a CPU number outside CPU_SETSIZE).
int socprof_set_affinity(pid_t tid, const int *cpus, int count);

/// sched_getaffinity(2) for thread `tid` (0: the caller): writes up to `max` CPU numbers to `cpus`
/// and returns how many CPUs the mask holds, or -1 with errno.
int socprof_get_affinity(pid_t tid, int *cpus, int max);

/// sched_getcpu(3): the CPU the caller runs on now, or -1.
int socprof_current_cpu(void);

// MARK: - The mmap'ed counter page (CPerfEvent.c)

/// Reads a counter from its mmap'ed `perf_event_mmap_page` without a system call, as libperf's
/// perf_mmap__read_self does: the seqlock loop, `rdpmc` on x86, PMEVCNTR<n>_EL0 / PMCCNTR_EL0 on
/// arm64, and time enabled/running extrapolated with the page's time_mult/shift/offset.
/// Returns 0 with the three outputs set, or -1 when this counter cannot be read from user space
/// (no cap_user_rdpmc, the event is not on a hardware counter now (index 0), or the architecture
/// has no user access); the caller then falls back to read(2).
int socprof_mmap_read_self(const void *page, uint64_t *value, uint64_t *enabled, uint64_t *running);

/// 1 when the page says user-space reads are possible (cap_user_rdpmc), 0 otherwise.
int socprof_mmap_can_rdpmc(const void *page);

// MARK: - Child processes (CPerfEvent.c)

/// Forks a child that waits until the parent calls socprof_spawn_release(`*go_fd`), then clears
/// its signal mask and execvp()s `argv[0]`; if `*go_fd` is closed first, the child exits 127
/// without running anything. If exec fails, the child writes its errno
/// to the close-on-exec pipe whose read end is `*err_fd` and exits with 127 (ENOENT) or 126.
/// Returns the child's pid, or -1 with errno. The parent owns both returned fds.
pid_t socprof_spawn_waiting(char *const argv[], int *go_fd, int *err_fd);

/// Lets the child of socprof_spawn_waiting exec. Returns 0, or -1 with errno (EPIPE: it died).
int socprof_spawn_release(int go_fd);

/// Forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT that another process sends to this one
/// (si_code <= 0: kill, sigqueue, tgkill) to `pid`. Signals the kernel raises from the terminal
/// (Ctrl-C) reach the child directly through its process group and are not sent twice. A signal
/// sent with kill(2) to the whole process group (timeout(1), systemd) reaches the child twice.
/// The last signal received is available from socprof_forwarded_signal().
int socprof_forward_signals(pid_t pid);
/// Stops forwarding and restores the previous handlers.
void socprof_stop_forwarding(void);
/// The last signal received while forwarding, or 0.
int socprof_forwarded_signal(void);

// MARK: - Interrupts (CPerfEvent.c)

/// Makes SIGINT and SIGTERM set a flag instead of ending the process, so that a long run can stop
/// cleanly and write what it measured. Returns 0, or -1 with errno.
int socprof_catch_interrupts(void);
/// 1 once SIGINT or SIGTERM arrived after socprof_catch_interrupts().
int socprof_interrupted(void);

/// Flushes stdout; nonzero when that or any earlier write to it failed (a full disk, a closed fd).
int socprof_stdout_failed(void);

// MARK: - Benchmark reference (CPerfEvent.c)

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

// MARK: - Wait status macros Swift cannot import

static inline int socprof_wifexited(int status) { return WIFEXITED(status); }
static inline int socprof_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int socprof_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int socprof_wtermsig(int status) { return WTERMSIG(status); }

#endif
