#!/usr/bin/env python3
"""Retarget an aarch64 Swift.swiftinterface to a 32-bit `Int`/`UInt` (for armv7).

Used only by scripts/cross-check.  There is no Swift standard library for
armv7-unknown-linux-gnueabihf that matches our compiler, so the check reuses
Debian's aarch64 Swift.swiftinterface.  The interface is target-neutral except
for `Int` and `UInt`, whose storage and inlinable bodies are written in terms of
64-bit builtins (Builtin.Int64, Builtin.add_Int64, ...).  This script rewrites
those two types (the `struct Int`/`struct UInt` declarations and every top-level
`extension Swift.Int`/`extension Swift.UInt` block) to 32 bits:

  * every `Builtin.*` identifier: Int64 -> Int32, then Int128 -> Int64 (the
    double-width type used by multipliedFullWidth and friends);
  * the literal word sizes in `bitWidth`, the masking shifts, `signum()`, the
    full-width multiply and the `Words` collection: 64 -> 32 (and 63 -> 31).

Inlinable code elsewhere in the interface that mixes `Int` with 64-bit builtins
no longer type-checks afterwards; scripts/cross/stub.py removes those bodies.

Usage: patch32.py IN OUT
"""
import re
import sys

# A top-level declaration that starts an Int/UInt region.  `\b` keeps Int8,
# Int16, ... and UInt64 etc. out (a digit is a word character).
REGION_START = re.compile(r"^(@frozen public struct U?Int\b|extension Swift\.U?Int\b)")

# A column-0 line that starts some other top-level declaration, i.e. ends the
# region.  Attribute lines (`@inlinable`, `@available`, `@_...`) only prefix the
# next declaration, so they do not end a region by themselves.
TOP_LEVEL_DECL = re.compile(
    r"^(@|public |extension |final |infix |prefix |postfix |precedencegroup |import )")
ATTRIBUTE_ONLY = re.compile(r"^@(_|inlinable|available|usableFromInline)")

# Textual 64 -> 32 rewrites of the word size inside the region (exact strings
# that occur in the 6.2 interface; missing ones are harmless).
WIDTH_LITERALS = [
    ("get { return 64 }", "get { return 32 }"),        # bitWidth
    ("UInt8(64)", "UInt8(32)"),                        # shift amount in full-width multiply
    ("(64 + 64 - 1) / 64", "(32 + 32 - 1) / 32"),      # Words.count
    ("&* 64", "&* 32"),                                # Words subscript shift
    ("rhs & 63", "rhs & 31"),                          # masking shifts &<<= / &>>=
    ("self &>> 63", "self &>> 31"),                    # signum()
]


def narrow_builtin(match):
    name = match.group(0)
    # Order matters: Int64 becomes Int32 first, then Int128 becomes Int64.
    return name.replace("Int64", "Int32").replace("Int128", "Int64")


def patch_line(line):
    line = re.sub(r"Builtin\.\w+", narrow_builtin, line)
    for old, new in WIDTH_LITERALS:
        line = line.replace(old, new)
    return line


def main(src_path, dst_path):
    with open(src_path) as f:
        lines = f.read().split("\n")
    out = []
    in_region = False
    patched = 0
    for line in lines:
        if REGION_START.match(line):
            in_region = True
        elif TOP_LEVEL_DECL.match(line) and not ATTRIBUTE_ONLY.match(line):
            in_region = False
        if in_region:
            new = patch_line(line)
            patched += new != line
            line = new
        out.append(line)
    if patched == 0:
        sys.exit("patch32.py: no Int/UInt declarations found in %s" % src_path)
    with open(dst_path, "w") as f:
        f.write("\n".join(out))
    print("patch32.py: rewrote %d lines of Int/UInt to 32 bits" % patched)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
