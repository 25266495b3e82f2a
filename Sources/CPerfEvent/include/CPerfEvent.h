// C shim for socprof's counters: what Swift cannot call directly of perf_event (the variadic
// syscall(), the ioctl request macros, volatile seqlock reads of the mmap'ed counter page).
#ifndef SOCPROF_CPERFEVENT_H
#define SOCPROF_CPERFEVENT_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
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

#endif
