// C shim for socprof's Linux process control: threads and CPU affinity (the CPU_SET macros),
// a child that execs when told to (fork/exec with a go pipe), signal forwarding and interrupts,
// the wait-status macros. What Swift cannot call directly.
#ifndef SOCPROF_CLINUX_H
#define SOCPROF_CLINUX_H

// No _GNU_SOURCE here: it would change glibc's struct definitions for every Swift module that
// imports this one. The CPU_SET users live in CLinux.c, which defines it.
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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

// MARK: - Child processes (CLinux.c)

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

// MARK: - Interrupts (CLinux.c)

/// Makes SIGINT and SIGTERM set a flag instead of ending the process, so that a long run can stop
/// cleanly and write what it measured. Returns 0, or -1 with errno.
int socprof_catch_interrupts(void);
/// 1 once SIGINT or SIGTERM arrived after socprof_catch_interrupts().
int socprof_interrupted(void);

/// Flushes stdout; nonzero when that or any earlier write to it failed (a full disk, a closed fd).
int socprof_stdout_failed(void);

// MARK: - Wait status macros Swift cannot import

static inline int socprof_wifexited(int status) { return WIFEXITED(status); }
static inline int socprof_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int socprof_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int socprof_wtermsig(int status) { return WTERMSIG(status); }

#endif
