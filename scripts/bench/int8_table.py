#!/usr/bin/env python3
"""scripts/bench/int8-networks' table: one row per network and thread count, then issue 13's goal.

    int8_table.py header
    int8_table.py row CELLS.jsonl SOCPROF_FP32_JSON SOCPROF_INT8_JSON ORT_FP32_JSON ORT_INT8_JSON
    int8_table.py medians CELLS.jsonl
    int8_table.py goal CELLS.jsonl
    int8_table.py accuracy SOCPROF_INT8_JSON

row: the four JSON documents of one round as text (`socprof run --json` for socprof, ort_bench.py
time for onnxruntime; SOCPROF_INT8_JSON empty when this socprof has no `run --precision int8`);
prints the row and appends the cell to CELLS.jsonl. medians: per network and thread count, the
median over its rounds of each column, and of each round's ratios (the four runs of a round run
one after another, so a round's ratios see the same machine), with the range of int8/ort int8 and
a 95 % confidence interval of its median (round_stats.py; from 6 rounds on).
goal: for MobileNet at each thread count, socprof int8 against issue 13's goal (>= 1.5x socprof
fp32 and >= 1.0x onnxruntime int8) by those medians, met or not met per cell; exit 0 either way
(a benchmark reports, it does not fail). accuracy: the "accuracy" of
`socprof run NET --precision int8 --json` (socprof's int8 network against its fp32 form) as
onnx_accuracy.py prints onnxruntime's. Exit 2 on bad arguments.
"""
import json
import statistics
import sys

import round_stats

GOAL_NETWORK, GOAL_OVER_FP32, GOAL_OVER_ORT_INT8 = "mobilenet", 1.5, 1.0
COLUMNS = "%-10s %7s %13s %13s %13s %13s %15s %17s"


def bad(message):
    print("int8_table.py: %s\nusage: int8_table.py header | row CELLS.jsonl FP32 INT8 ORT_FP32 ORT_INT8 | medians CELLS.jsonl | goal CELLS.jsonl"
          " | accuracy SOCPROF_INT8_JSON" % message,
          file=sys.stderr)
    sys.exit(2)


def parse(text, what):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        bad("%s is not JSON (%s): %r" % (what, e, text[:200]))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def read_cells(path):
    """The rounds of CELLS.jsonl, grouped per (network, threads) in the order they first ran."""
    groups = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                c = json.loads(line)
                groups.setdefault((c["network"], c["threads"]), []).append(c)
    return groups


def summary(rounds):
    """One cell from a network's rounds: the median of each column and of each round's ratios."""
    cell = dict(network=rounds[0]["network"], threads=rounds[0]["threads"], rounds=len(rounds))
    for key in ("socprof_fp32", "socprof_int8", "ort_fp32", "ort_int8", "int8_over_fp32", "int8_over_ort_int8"):
        cell[key] = median(r[key] for r in rounds)
    ratios = [r["int8_over_ort_int8"] for r in rounds if r["int8_over_ort_int8"] is not None]
    cell["int8_over_ort_int8_range"] = (min(ratios), max(ratios)) if ratios else None
    cell["int8_over_ort_int8_interval"] = round_stats.describe_interval(ratios) if ratios else None
    return cell


def figure(v, fmt):
    return "n/a" if v is None else fmt % v


def verdict(ratio, goal):
    return "unknown" if ratio is None else ("met" if ratio >= goal else "not met")


def main():
    args = sys.argv[1:]
    if args == ["header"]:
        print(COLUMNS % ("network", "threads", "socprof fp32", "socprof int8", "ort fp32", "ort int8", "int8/fp32", "int8/ort int8"))
        print(COLUMNS % ("", "", "images/s", "images/s", "images/s", "images/s", "(socprof)", ""))
    elif len(args) == 6 and args[0] == "row":
        fp32 = parse(args[2], "socprof fp32")
        int8 = parse(args[3], "socprof int8") if args[3].strip() else None
        ort_fp32, ort_int8 = parse(args[4], "onnxruntime fp32"), parse(args[5], "onnxruntime int8")
        ips = lambda d: d["images_per_second"] if d else None
        cell = dict(network=fp32["network"], threads=fp32["threads"], socprof_fp32=ips(fp32), socprof_int8=ips(int8),
                    ort_fp32=ips(ort_fp32), ort_int8=ips(ort_int8))
        if int8 and int8.get("network") != fp32["network"]:
            bad("socprof int8 ran %s, fp32 %s" % (int8.get("network"), fp32["network"]))
        cell["int8_over_fp32"] = cell["socprof_int8"] / cell["socprof_fp32"] if int8 else None
        cell["int8_over_ort_int8"] = cell["socprof_int8"] / cell["ort_int8"] if int8 else None
        with open(args[1], "a") as f:
            f.write(json.dumps(cell) + "\n")
        print(COLUMNS % (cell["network"], cell["threads"], figure(cell["socprof_fp32"], "%.1f"), figure(cell["socprof_int8"], "%.1f"),
                         figure(cell["ort_fp32"], "%.1f"), figure(cell["ort_int8"], "%.1f"),
                         figure(cell["int8_over_fp32"], "%.2fx"), figure(cell["int8_over_ort_int8"], "%.2fx")))
    elif len(args) == 2 and args[0] == "accuracy":
        accuracy(args[1])
    elif len(args) == 2 and args[0] == "medians":
        groups = read_cells(args[1])
        if not groups:
            bad("no rows in %s" % args[1])
        print(COLUMNS % ("network", "threads", "socprof fp32", "socprof int8", "ort fp32", "ort int8", "int8/fp32", "int8/ort int8")
              + "  int8/ort int8 range       95 % interval (median)")
        for rounds in groups.values():
            c = summary(rounds)
            span = c["int8_over_ort_int8_range"]
            print(COLUMNS % (c["network"], c["threads"], figure(c["socprof_fp32"], "%.1f"), figure(c["socprof_int8"], "%.1f"),
                             figure(c["ort_fp32"], "%.1f"), figure(c["ort_int8"], "%.1f"),
                             figure(c["int8_over_fp32"], "%.2fx"), figure(c["int8_over_ort_int8"], "%.2fx"))
                  + ("  %-24s  %s" % ("%.2f-%.2fx (%d round%s)" % (span[0], span[1], c["rounds"], "" if c["rounds"] == 1 else "s"),
                                      c["int8_over_ort_int8_interval"]) if span else ""))
    elif len(args) == 2 and args[0] == "goal":
        cells = [summary(rounds) for (network, _), rounds in read_cells(args[1]).items() if network == GOAL_NETWORK]
        if not cells:
            bad("no %s rows in %s" % (GOAL_NETWORK, args[1]))
        print("goal (issue 13): socprof int8 >= %.1fx socprof fp32 and >= %.1fx onnxruntime int8 for MobileNet at 1 and 2 threads"
              " (medians of each round's ratios)" % (GOAL_OVER_FP32, GOAL_OVER_ORT_INT8))
        for c in cells:
            print("  %d thread%s: %.1fx socprof fp32 %s; %.1fx onnxruntime int8 %s" % (
                c["threads"], "" if c["threads"] == 1 else "s", GOAL_OVER_FP32,
                verdict(c["int8_over_fp32"], GOAL_OVER_FP32) + ("" if c["int8_over_fp32"] is None else " (%.3fx)" % c["int8_over_fp32"]),
                GOAL_OVER_ORT_INT8,
                verdict(c["int8_over_ort_int8"], GOAL_OVER_ORT_INT8) + ("" if c["int8_over_ort_int8"] is None else " (%.3fx)" % c["int8_over_ort_int8"])))
        if any(c["socprof_int8"] is None for c in cells):
            print("  unknown: socprof run --precision int8 is not available in this build")
    else:
        bad("unknown command or wrong number of arguments")


def accuracy(text):
    import onnx_accuracy
    d = parse(text, "socprof int8")
    a = d.get("accuracy")
    if not a:
        bad("no accuracy in socprof's JSON (run with --accuracy-images N, N >= 1)")
    print(onnx_accuracy.line("socprof", d["network"], a["images"], a["top1_agreement"], a["top5_contains_top1"],
                             a["mean_cosine"], a["min_cosine"], a["max_relative_logit_error"]))


if __name__ == "__main__":
    main()
