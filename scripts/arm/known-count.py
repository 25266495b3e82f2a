#!/usr/bin/env python3
"""Writes static Linux programs whose user-space instruction count is known exactly: a loop of
two instructions run N times, then exit(0). No toolchain is needed: the machine code is written
here, instruction by instruction, with its encoding spelled out.

    known-count.py [-n N] DIR

writes DIR/loop-aarch64 (2N + 5 instructions), DIR/loop-x86_64 (2N + 4) and DIR/counts.json with
those counts. socprof's tests count them with `socprof stat -e instructions:u` (see
docs/arm-board.md); the files in Tests/Fixtures/programs come from `known-count.py
Tests/Fixtures/programs`.
"""
import json
import os
import struct
import sys

BASE = 0x400000
HEADERS = 64 + 56  # ELF header + one program header


def aarch64(n):
    assert 0 < n < 1 << 32
    words = [
        0xD2800000 | ((n & 0xFFFF) << 5),          # movz x0, #lo16(n)
        0xF2A00000 | ((n >> 16) << 5),             # movk x0, #hi16(n), lsl #16
        0xF1000400,                                # loop: subs x0, x0, #1
        0x54FFFFE1,                                #       b.ne loop (imm19 = -1, cond NE)
        0xD2800000 | (93 << 5) | 8,                # movz x8, #93 (exit)
        0xD2800000,                                # movz x0, #0
        0xD4000001,                                # svc #0
    ]
    return b"".join(struct.pack("<I", w) for w in words), 2 * n + 5, 183


def x86_64(n):
    assert 0 < n < 1 << 31
    code = (b"\xb9" + struct.pack("<I", n)         # mov ecx, n
            + b"\xff\xc9"                          # loop: dec ecx
            + b"\x75\xfc"                          #       jnz loop (rel8 -4)
            + b"\xb8\x3c\x00\x00\x00"              # mov eax, 60 (exit)
            + b"\x31\xff"                          # xor edi, edi
            + b"\x0f\x05")                         # syscall
    return code, 2 * n + 4, 62


def elf(code, machine):
    size = HEADERS + len(code)
    header = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"\0" * 7,
                         2, machine, 1, BASE + HEADERS, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    program = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, size, size, 0x1000)  # PT_LOAD, R+X
    return header + program + code


def main(argv):
    n = 1_000_000
    if len(argv) >= 2 and argv[0] == "-n":
        n = int(argv[1]); argv = argv[2:]
    if len(argv) != 1:
        sys.exit(__doc__)
    out = argv[0]
    os.makedirs(out, exist_ok=True)
    counts = {}
    for name, gen in (("loop-aarch64", aarch64), ("loop-x86_64", x86_64)):
        code, count, machine = gen(n)
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(elf(code, machine))
        os.chmod(path, 0o755)
        counts[name] = {"instructions": count, "iterations": n}
    with open(os.path.join(out, "counts.json"), "w") as f:
        json.dump(counts, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
