#!/usr/bin/env python3
"""Extract the availability matrix of arm-pmu-facts.md section 2.1 as a TSV.

Usage: extract-availability.py [path/to/arm-pmu-facts.md] > arm-event-availability.tsv

The matrix is the fenced code block under the "### 2.1" heading. Its first line names the
columns (code, 28 cores, name); every other line is one event. Cells other than "Y" ("-", "*",
"R") become "-". Only the 9 cores socprof ships tables for are kept, in the order below.
"""
import re
import sys

CORES = ["a7", "a15", "a53", "a55", "a57", "a72", "a73", "a76", "N1"]
OUT_NAMES = ["cortex-a7", "cortex-a15", "cortex-a53", "cortex-a55", "cortex-a57",
             "cortex-a72", "cortex-a73", "cortex-a76", "neoverse-n1"]


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/arm-pmu-facts.md"
    text = open(path, encoding="utf-8").read()
    section = text.split("### 2.1", 1)[1].split("\n### ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1).strip("\n").splitlines()
    header = block[0].split()
    if header[0] != "code" or header[-1] != "name":
        sys.exit(f"unexpected matrix header: {block[0]!r}")
    cols = header[1:-1]
    if len(cols) != 28:
        sys.exit(f"expected 28 core columns, got {len(cols)}")
    idx = [cols.index(c) for c in CORES]
    print("\t".join(["code", "name"] + OUT_NAMES))
    for line in block[1:]:
        tok = line.split()
        code, cells, name = tok[0], tok[1:1 + len(cols)], tok[1 + len(cols)]
        if not re.fullmatch(r"0x[0-9A-Fa-f]+", code) or len(cells) != len(cols):
            sys.exit(f"malformed matrix row: {line!r}")
        if not re.fullmatch(r"[A-Z0-9_]+", name):
            sys.exit(f"unexpected event name in row: {line!r}")
        code = "0x%02x" % int(code, 16)
        print("\t".join([code, name] + ["Y" if cells[i] == "Y" else "-" for i in idx]))


if __name__ == "__main__":
    main()
