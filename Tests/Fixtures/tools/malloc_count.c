/* An LD_PRELOAD library that counts heap allocations (malloc, calloc, realloc, posix_memalign,
   aligned_alloc) and prints "MALLOCS <n>" on stderr at exit. The kernel tests use it to check
   that running more images allocates nothing more. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_long count;
static char boot[8192];
static size_t boot_used;

void *malloc(size_t n) {
    static void *(*real)(size_t);
    if (!real) real = dlsym(RTLD_NEXT, "malloc");
    atomic_fetch_add(&count, 1);
    return real(n);
}

void *calloc(size_t a, size_t b) {
    static void *(*real)(size_t, size_t);
    if (!real) {
        /* dlsym itself may call calloc: serve it from a static buffer. */
        if (boot_used + a * b < sizeof boot) {
            void *p = boot + boot_used;
            boot_used += (a * b + 15) & ~(size_t)15;
            return p;
        }
        real = dlsym(RTLD_NEXT, "calloc");
    }
    atomic_fetch_add(&count, 1);
    return real(a, b);
}

void *realloc(void *p, size_t n) {
    static void *(*real)(void *, size_t);
    if (!real) real = dlsym(RTLD_NEXT, "realloc");
    atomic_fetch_add(&count, 1);
    return real(p, n);
}

int posix_memalign(void **p, size_t a, size_t n) {
    static int (*real)(void **, size_t, size_t);
    if (!real) real = dlsym(RTLD_NEXT, "posix_memalign");
    atomic_fetch_add(&count, 1);
    return real(p, a, n);
}

void *aligned_alloc(size_t a, size_t n) {
    static void *(*real)(size_t, size_t);
    if (!real) real = dlsym(RTLD_NEXT, "aligned_alloc");
    atomic_fetch_add(&count, 1);
    return real(a, n);
}

void free(void *p) {
    static void (*real)(void *);
    if ((char *)p >= boot && (char *)p < boot + sizeof boot) return;
    if (!real) real = dlsym(RTLD_NEXT, "free");
    real(p);
}

__attribute__((destructor)) static void report(void) {
    char b[64];
    int n = snprintf(b, sizeof b, "MALLOCS %ld\n", (long)atomic_load(&count));
    if (write(2, b, (size_t)n) < 0) { /* nothing to do */ }
}
