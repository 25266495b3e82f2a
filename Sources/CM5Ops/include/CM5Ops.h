#ifndef SOCPROF_CM5OPS_H
#define SOCPROF_CM5OPS_H

/// gem5's pseudo-instructions ("m5ops"), the "inst" call type: a reserved instruction word that a
/// gem5 CPU decodes as the operation and any other CPU treats as undefined (SIGILL on Linux).
/// Encodings from gem5's util/m5/src/abi/arm64/m5op.S and abi/arm/m5op.S:
/// AArch64 0xff000110 | func << 16, A32 0xee000110 | func << 16; delay and period are 0.

/// The function numbers (gem5 include/gem5/asm/generic/m5ops.h).
enum {
    SOCPROF_M5_RESET_STATS = 0x40,
    SOCPROF_M5_DUMP_STATS = 0x41,
    SOCPROF_M5_DUMP_RESET_STATS = 0x42,
};

/// Whether this build has m5ops at all: 1 on aarch64 and 32-bit ARM, 0 elsewhere.
int socprof_m5ops_compiled(void);

/// Executes m5op `func` (one of the above) with delay 0 and period 0. Returns 0 when it ran,
/// -1 when the CPU raised SIGILL (not a gem5 CPU: nothing happened), -2 when this build has no
/// m5ops, -3 for a function number it does not know. A SIGILL handler is installed only for the instruction and the previous one restored.
int socprof_m5op(int func);

#endif
