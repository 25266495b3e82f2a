#!/usr/bin/env python3
"""Prints the shared libraries (paths inside ROOT) that ELF files need, transitively, with the
program interpreter: what an initramfs must hold for them to run.

    elf-closure.py ROOT SEARCHDIR... -- FILE...

SEARCHDIRs are absolute paths inside ROOT, searched in order for each DT_NEEDED name. Uses readelf
(binutils reads every architecture). Exits 1 naming any library that is not found.
"""
import os
import re
import subprocess
import sys


def needed(path):
    out = subprocess.run(["readelf", "-dlW", path], capture_output=True, text=True, check=True).stdout
    libs = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    interp = re.findall(r"\[Requesting program interpreter: ([^\]]+)\]", out)
    return libs, interp


def main(argv):
    split = argv.index("--")
    root, dirs, files = argv[0], argv[1:split], argv[split + 1:]
    seen, missing, todo = {}, [], list(files)
    result = []
    while todo:
        f = todo.pop()
        libs, interp = needed(f)
        for i in interp:
            if i not in seen:
                seen[i] = True
                result.append(i)
        for name in libs:
            if name in seen:
                continue
            seen[name] = True
            for d in dirs:
                cand = os.path.join(d, name)
                host = root + cand
                if os.path.exists(host):
                    result.append(cand)
                    todo.append(os.path.realpath(host))
                    break
            else:
                missing.append(f"{name} (needed by {f})")
    if missing:
        print("elf-closure: not found: " + ", ".join(missing), file=sys.stderr)
        return 1
    print("\n".join(sorted(set(result))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
