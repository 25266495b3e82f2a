// libpfm4 (Debian: libpfm4-dev). linux/perf_event.h first, so that libpfm4's private copy of
// perf_event.h steps aside and both modules see the kernel's struct perf_event_attr.
#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
