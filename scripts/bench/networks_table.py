#!/usr/bin/env python3
"""The tables of scripts/bench/networks: one row per round, then the medians.

    networks_table.py header
    networks_table.py row CELLS.jsonl SOCPROF_RUN_JSON ORT_JSON
    networks_table.py medians CELLS.jsonl

row: one round (socprof and onnxruntime, one after the other) from `socprof run --json` and
`ort_bench.py time`: prints the row and appends it to CELLS.jsonl. medians: per network and
thread count, the median over its rounds of each column and of each round's ratio (a round's two
runs see the same machine: on a shared VM a neighbour's load moves whole runs by 10-40 %), with
the range of the ratios, a 95 % confidence interval of the median ratio (distribution-free, from
the rounds' order statistics: round_stats.py; from 6 rounds on), how many rounds' ratios are above
1.0x, and the ratio of the two sides' best rounds (the most images/s each: a neighbour's load only
slows a run). Exit 2 on bad arguments or input that is not JSON.
"""
import json
import statistics
import sys

import round_stats

ROW = "%-16s %8s %12s %10s %12s %10s %11s"


def bad(message):
    print("networks_table.py: %s\nusage: networks_table.py header | row CELLS.jsonl RUN ORT | medians CELLS.jsonl" % message,
          file=sys.stderr)
    sys.exit(2)


def parse(text, what):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        bad("%s is not JSON (%s): %r" % (what, e, text[:200]))


def main():
    args = sys.argv[1:]
    if args == ["header"]:
        print(ROW % ("network", "threads", "images/s", "median_ms", "ort_images/s", "ort_ms", "socprof/ort"))
    elif len(args) == 4 and args[0] == "row":
        ours, theirs = parse(args[2], "socprof run"), parse(args[3], "onnxruntime")
        cell = dict(network=ours["network"], threads=ours["threads"], ips=ours["images_per_second"], ms=ours["median_ms"],
                    ort_ips=theirs["images_per_second"], ort_ms=theirs["median_ms"])
        cell["ratio"] = cell["ips"] / cell["ort_ips"]
        with open(args[1], "a") as f:
            f.write(json.dumps(cell) + "\n")
        print(ROW % (cell["network"], cell["threads"], "%.2f" % cell["ips"], "%.2f" % cell["ms"], "%.2f" % cell["ort_ips"],
                     "%.2f" % cell["ort_ms"], "%.2fx" % cell["ratio"]))
    elif len(args) == 2 and args[0] == "medians":
        groups = {}
        try:
            with open(args[1]) as f:
                lines = f.readlines()
        except OSError as e:
            bad("cannot read %s: %s" % (args[1], e.strerror))
        for line in lines:
            if line.strip():
                c = parse(line, args[1])
                groups.setdefault((c["network"], c["threads"]), []).append(c)
        if not groups:
            bad("no rows in %s" % args[1])
        print(ROW % ("network", "threads", "images/s", "median_ms", "ort_images/s", "ort_ms", "socprof/ort")
              + "  %-24s %-24s %-9s %s" % ("range of the rounds", "95 % interval (median)", "above 1x", "best/best"))
        for (network, threads), rounds in groups.items():
            m = lambda key: statistics.median(r[key] for r in rounds)
            ratios = [r["ratio"] for r in rounds]
            best = max(r["ips"] for r in rounds) / max(r["ort_ips"] for r in rounds)
            spread = "%.2f-%.2fx (%d round%s)" % (min(ratios), max(ratios), len(rounds), "" if len(rounds) == 1 else "s")
            print(ROW % (network, threads, "%.2f" % m("ips"), "%.2f" % m("ms"), "%.2f" % m("ort_ips"), "%.2f" % m("ort_ms"),
                         "%.2fx" % m("ratio"))
                  + "  %-24s %-24s %-9s %.2fx" % (spread, round_stats.describe_interval(ratios),
                                                  "%d of %d" % (sum(r > 1.0 for r in ratios), len(ratios)), best))
    else:
        bad("unknown arguments %r" % args)


if __name__ == "__main__":
    main()
