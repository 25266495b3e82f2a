#!/usr/bin/env python3
"""onnxruntime as the benchmark scripts run it: one session setup, one timing loop, one CPU choice.

    ort_bench.py cpus SOCPROF_RUN_JSON THREADS
        The first THREADS CPUs of socprof's placement ("cluster x86 (cpus 0-1)" in the JSON of
        `socprof run --json`): socprof pins thread i to the i-th, so the reference gets the same.
    ort_bench.py time MODEL.onnx THREADS CPUS ITERATIONS WARMUP [--input EXPORT_DIR]
        Restricts the process to CPUS (a comma list; sched_setaffinity, as taskset -c, before
        onnxruntime makes its threads, which inherit it), runs WARMUP images, then times ITERATIONS
        one by one and prints {"images_per_second", "median_ms"} (the median) as JSON. The input is
        the export's "input" tensor (socprof's own) with --input, uniform [-0.5, 0.5) otherwise.
    ort_bench.py describe ITERATIONS WARMUP
        One line: the onnxruntime and onnx versions and the session options below.

Session options (session()): CPU execution provider, intra_op_num_threads = THREADS,
inter_op_num_threads = 1, ORT_SEQUENTIAL, ORT_ENABLE_ALL graph optimisations. Used by
scripts/bench/networks, int8-networks, onnx_outputs.py and onnx_quantize.py. Exit 2 on bad arguments.
"""
import json
import os
import re
import sys
import time

USAGE = ("usage: ort_bench.py cpus SOCPROF_RUN_JSON THREADS\n"
         "       ort_bench.py time MODEL.onnx THREADS CPUS ITERATIONS WARMUP [--input EXPORT_DIR]\n"
         "       ort_bench.py describe ITERATIONS WARMUP")


def bad(message):
    print("ort_bench.py: " + message, file=sys.stderr)
    print(USAGE, file=sys.stderr)
    sys.exit(2)


def session(model, threads, profile_prefix=None):
    """An onnxruntime CPU session for `model` (a path or serialized bytes) with the benchmarks' options;
    with `profile_prefix`, onnxruntime's own profiling on (a JSON trace of every node's kernel time,
    written there when the session's end_profiling() is called)."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def describe(iterations, warmup):
    import onnx
    import onnxruntime as ort
    return ("onnxruntime %s (onnx %s), CPU execution provider; intra_op_num_threads = threads, inter_op_num_threads = 1, "
            "ORT_SEQUENTIAL, ORT_ENABLE_ALL; process on the first <threads> CPUs socprof used; %d warm-up + %d timed images, median"
            % (ort.__version__, onnx.__version__, warmup, iterations))


def placement_cpus(run_json, threads):
    """The first `threads` CPUs of the placement in `socprof run --json`'s output (a dict)."""
    m = re.search(r"cpus ([0-9,-]+)", run_json.get("placement", ""))
    if not m:
        raise SystemExit("no cpu list in socprof placement %r" % run_json.get("placement"))
    cpus = []
    for part in m.group(1).split(","):
        a, _, b = part.partition("-")
        cpus += range(int(a), int(b or a) + 1)
    if len(cpus) < threads:
        raise SystemExit("socprof placement %r has fewer than %d CPUs" % (run_json["placement"], threads))
    return cpus[:threads]


def image(export=None):
    """The input image: the "input" tensor of a `socprof networks NET --export` directory (socprof's
    own), else uniform [-0.5, 0.5) from a fixed seed."""
    import numpy as np
    if export is None:
        return np.random.default_rng(0).random((1, 3, 224, 224), dtype=np.float32) - 0.5
    import onnx_model
    tensors = onnx_model.load_export(export)[2]
    if "input" not in tensors:
        raise SystemExit("%s: no input tensor in the export" % export)
    return tensors["input"]


def time_model(model, threads, cpus, iterations, warmup, x=None):
    """Median seconds per image of `model` on `threads` threads, the process restricted to `cpus`."""
    os.sched_setaffinity(0, cpus)   # before onnxruntime makes its threads: they inherit it
    sess = session(model, threads)
    feed = {sess.get_inputs()[0].name: image() if x is None else x}
    for _ in range(warmup):
        sess.run(None, feed)
    ts = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        sess.run(None, feed)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def whole(text, what, least=1):
    try:
        n = int(text)
    except ValueError:
        bad("%s %r is not a whole number" % (what, text))
    if n < least:
        bad("%s %d: give %d or more" % (what, n, least))
    return n


def main():
    args = sys.argv[1:]
    if not args:
        bad("no command")
    command, args = args[0], args[1:]
    if command == "cpus" and len(args) == 2:
        try:
            with open(args[0]) as f:
                run_json = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            bad("%s is not the JSON of socprof run --json: %s" % (args[0], e))
        print(",".join(map(str, placement_cpus(run_json, whole(args[1], "threads")))))
    elif command == "time" and len(args) in (5, 7):
        x = None
        if len(args) == 7:
            if args[5] != "--input":
                bad("unknown option %r" % args[5])
            x = image(args[6])
        model = args[0]
        if not os.path.isfile(model):
            bad("no model file %s" % model)
        threads = whole(args[1], "threads")
        try:
            cpus = [int(c) for c in args[2].split(",")]
        except ValueError:
            bad("CPUS %r is not a comma list of CPU numbers" % args[2])
        if len(cpus) < threads:
            bad("%d threads on %d CPUs (%s)" % (threads, len(cpus), args[2]))
        median = time_model(model, threads, cpus, whole(args[3], "iterations"), whole(args[4], "warmup", 0), x)
        print(json.dumps({"images_per_second": 1 / median, "median_ms": median * 1e3}))
    elif command == "describe" and len(args) == 2:
        print(describe(whole(args[0], "iterations"), whole(args[1], "warmup", 0)))
    else:
        bad("unknown command or wrong number of arguments: %s" % " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
