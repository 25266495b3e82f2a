#define _GNU_SOURCE 1
#include <sched.h>
#include "CLinux.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>

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

