#!/usr/bin/env python3
"""onnxruntime's time per node of a model, from its own profiler, to set beside `socprof profile`.

    ort_layers.py MODEL.onnx THREADS [--runs N] [--warmup N] [--input EXPORT_DIR] [--json]

Runs the model with the benchmarks' session options (ort_bench.session) and onnxruntime's
profiling on: WARMUP images (default 5), then RUNS (default 50), and prints, per node, the mean
kernel time per image in ms, named after the socprof layer the node came from where its name
says so (the models of onnx_model.py name nodes after socprof's layers; onnxruntime adds suffixes
such as "_token_12" or ":pre_nchwc" to the nodes it fuses or rewrites), then the time per op type
and the total. Nodes onnxruntime adds (Transpose, ReorderInput/Output for its NCHWc and NHWC
layouts) are listed under their own names. The input is the export's "input" tensor (socprof's
own image) with --input, uniform [-0.5, 0.5) otherwise. --json prints {"layers": {name: ms},
"ops": {op: ms}, "total_ms"} instead. Exit 2 on bad arguments.

To compare with socprof: `socprof profile NET [--precision int8] --threads T --format json`
gives each layer's `time_s`; the models come from `socprof networks NET --export DIR` and
onnx_quantize.py, as in int8-networks.
"""
import collections
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ort_bench  # noqa: E402

USAGE = "usage: ort_layers.py MODEL.onnx THREADS [--runs N] [--warmup N] [--input EXPORT_DIR] [--json]"


def bad(message):
    print("ort_layers.py: " + message, file=sys.stderr)
    print(USAGE, file=sys.stderr)
    sys.exit(2)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        bad("give a model and a thread count")
    model, threads = args[0], args[1]
    if not threads.isdigit() or int(threads) < 1:
        bad("THREADS '%s': give a whole number of at least 1" % threads)
    runs, warmup, export, as_json = 50, 5, None, False
    rest = args[2:]
    while rest:
        flag = rest.pop(0)
        if flag == "--json":
            as_json = True
            continue
        if not rest:
            bad("%s needs a value" % flag)
        value = rest.pop(0)
        if flag in ("--runs", "--warmup"):
            if not value.isdigit() or int(value) < (1 if flag == "--runs" else 0):
                bad("%s '%s': give a whole number" % (flag, value))
            if flag == "--runs":
                runs = int(value)
            else:
                warmup = int(value)
        elif flag == "--input":
            export = value
        else:
            bad("unknown option '%s'" % flag)
    if not os.path.isfile(model):
        bad("no model at %s" % model)
    x = ort_bench.image(export)
    with tempfile.TemporaryDirectory() as tmp:
        s = ort_bench.session(model, int(threads), profile_prefix=os.path.join(tmp, "ort"))
        feed = {s.get_inputs()[0].name: x}
        for _ in range(warmup):
            s.run(None, feed)
        # The warm-up's events are left out below: only each node's last `runs` count.
        for _ in range(runs):
            s.run(None, feed)
        with open(s.end_profiling()) as f:
            events = json.load(f)
    per_node = collections.defaultdict(list)
    op_of = {}
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            name = e["name"][: -len("_kernel_time")]
            per_node[name].append(e["dur"])
            op_of[name] = e.get("args", {}).get("op_name", "?")
    layers = collections.OrderedDict()
    ops = collections.defaultdict(float)
    for name, durations in per_node.items():
        ms = sum(durations[-runs:]) / runs / 1000.0
        layer = re.sub(r"(_token_\d+|:pre_nchwc|_nchwc)$", "", name)
        layers[layer] = layers.get(layer, 0.0) + ms
        ops[op_of[name]] += ms
    total = sum(layers.values())
    if as_json:
        print(json.dumps({"layers": layers, "ops": dict(ops), "total_ms": total}, indent=1))
        return
    print("onnxruntime, %s thread(s), %d images after %d warm-up: kernel time per image" % (threads, runs, warmup))
    for name, ms in layers.items():
        print("  %-50s %8.3f ms" % (name[:50], ms))
    print("by op type:")
    for op, ms in sorted(ops.items(), key=lambda kv: -kv[1]):
        print("  %-50s %8.3f ms" % (op, ms))
    print("total %.3f ms" % total)


if __name__ == "__main__":
    main()
