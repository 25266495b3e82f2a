#!/usr/bin/env python3
"""socprof's outputs checked against onnxruntime's, on socprof's own weights and input.

    onnx_outputs.py NET SOCPROF_JSON EXPORT_DIR

SOCPROF_JSON: `socprof networks NET --json`; EXPORT_DIR: `socprof networks NET --export DIR`
(socprof's seeded weights, its deterministic input, and the logits and probabilities socprof
computed from them on 1 thread). onnx_model.py builds NET in ONNX with those weights as the
initializers (every exported layer used once, at the shape it expects) and checks the graph
against socprof's layer list; onnxruntime (CPU, 1 thread, ORT_ENABLE_ALL, as the speed bench runs
it) computes the logits and the softmax from the same input. Prints one line of differences and
PASS or FAIL; exits 1 on FAIL. With --control, the same with the middle weighted layer's biases
moved by 1e-3 in the ONNX graph: that must FAIL (exit 1), or the comparison could not see an
error of that size.

Tolerance (both fp32, summing in different orders: GEMM blocking, fused epilogues, onnxruntime's
NCHWc convolutions; the rounding error of an fp32 dot product of K terms grows like
sqrt(K) * 2^-24 relative to the sum of |terms|, and compounds over 8 to 58 layers with MACs):
  logits: max |socprof - onnxruntime| <= LOGITS_TOLERANCE * max |logit|;
  probabilities: max |socprof - onnxruntime| / onnxruntime <= PROBABILITY_TOLERANCE
    (a softmax turns an absolute logit error e into a relative probability error of at most 2e);
  top-1 equal unless onnxruntime's first two logits are closer than the logits tolerance.
"""
import sys

import numpy as np
from onnx import TensorProto, helper

import onnx_model
import ort_bench

LOGITS_TOLERANCE = 1e-4
PROBABILITY_TOLERANCE = 1e-4


def main():
    args = sys.argv[1:]
    control = args[-1:] == ["--control"]
    args = args[:-1] if control else args
    if len(args) != 3 or args[0] not in onnx_model.BUILDERS:
        raise SystemExit("usage: onnx_outputs.py {%s} SOCPROF_NETWORKS_JSON EXPORT_DIR [--control]" % ",".join(onnx_model.BUILDERS))
    net, socprof_json, export = args
    index, weights, tensors = onnx_model.load_export(export)
    if index["network"] != net:
        raise SystemExit("%s: an export of %s, not %s" % (export, index["network"], net))
    for role in ("input", "logits", "output"):
        if role not in tensors:
            raise SystemExit("%s: no %s tensor in the export" % (export, role))
    if control:
        # The check must be able to fail: the middle weighted layer's biases moved by 1e-3.
        layers = [t["layer"] for t in index["tensors"] if t["role"] == "bias"]
        moved = layers[len(layers) // 2]
        w, b = weights[moved]
        weights[moved] = (w, b + np.float32(1e-3))
    model, _ = onnx_model.checked_model(net, socprof_json, weights)
    logits_name = tensors["logits_layer"]
    model.graph.output.append(helper.make_tensor_value_info(logits_name, TensorProto.FLOAT, None))

    sess = ort_bench.session(model.SerializeToString(), 1)
    names = [o.name for o in sess.get_outputs()]
    results = dict(zip(names, sess.run(None, {"input": tensors["input"]})))
    ort_p = results[model.graph.output[0].name].reshape(-1).astype(np.float64)
    ort_l = results[logits_name].reshape(-1).astype(np.float64)
    our_p = tensors["output"].reshape(-1).astype(np.float64)
    our_l = tensors["logits"].reshape(-1).astype(np.float64)
    if ort_p.shape != our_p.shape or ort_l.shape != our_l.shape:
        raise SystemExit("%s: output shapes differ: socprof %s / %s, onnxruntime %s / %s" % (net, our_l.shape, our_p.shape, ort_l.shape, ort_p.shape))

    logit_scale = np.abs(ort_l).max()
    logit_diff = np.abs(our_l - ort_l).max()
    logit_rel = logit_diff / logit_scale
    p_diff = np.abs(our_p - ort_p).max()
    p_rel = (np.abs(our_p - ort_p) / ort_p).max()
    ours_top5, theirs_top5 = np.argsort(-our_l)[:5], np.argsort(-ort_l)[:5]
    top1 = ours_top5[0] == theirs_top5[0]
    sorted_ort = np.sort(ort_l)[::-1]
    top1_margin = (sorted_ort[0] - sorted_ort[1]) / logit_scale
    top5 = len(set(ours_top5) & set(theirs_top5))
    failures = []
    if logit_rel > LOGITS_TOLERANCE:
        failures.append("logits %.2e > %.0e of max |logit|" % (logit_rel, LOGITS_TOLERANCE))
    if p_rel > PROBABILITY_TOLERANCE:
        failures.append("probabilities %.2e > %.0e relative" % (p_rel, PROBABILITY_TOLERANCE))
    if not top1 and top1_margin > LOGITS_TOLERANCE:
        failures.append("top-1 %d vs %d with a margin of %.2e" % (ours_top5[0], theirs_top5[0], top1_margin))
    print("%-10s logits: max|diff| %.3e, max|logit| %.3f, relative %.2e; probabilities: max|diff| %.3e, max relative %.2e; "
          "top-1 %s (%d; margin %.1e), top-5 %d/5 in common: %s"
          % (net + (" control (%s biases +1e-3, must FAIL):" % moved if control else ""), logit_diff, logit_scale, logit_rel, p_diff, p_rel, "same" if top1 else "DIFFERENT", theirs_top5[0], top1_margin,
             top5, "PASS" if not failures else "FAIL (" + "; ".join(failures) + ")"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
