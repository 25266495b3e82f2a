#!/usr/bin/env python3
"""How far onnxruntime's int8 model is from its fp32 model, on socprof's accuracy images.

    onnx_accuracy.py FP32.onnx INT8.onnx EXPORT_DIR

FP32.onnx and INT8.onnx: onnx_quantize.py's outputs; EXPORT_DIR: `socprof networks NET --export
DIR --accuracy-images N` (N >= 1: CalibrationImages.accuracySeed(i), never the calibration images).
Both models run in onnxruntime (CPU, 1 thread, ORT_ENABLE_ALL: ort_bench.session) on every image;
the logits are the final softmax's input as that softmax sees it (in a QDQ model the
DequantizeLinear output, in a QOperator model QLinearSoftmax's input dequantized). Prints one line:
the figures socprof's QuantizationAccuracy gives for its own int8 network, so the two lines
compare: top-1 agreement (the int8 model's top-1 class is the fp32 model's), how often the fp32
top-1 is in the int8 top 5, the cosine similarity of the logits (mean and minimum over the images;
issue 13's measure of int8 accuracy), the largest logit error over the largest fp32 logit,
and how decided the fp32 model is: how many classes its top-1 falls on, and the median gap between
its first two logits (seeded random weights on noise images give nearly flat logits, where a small
error changes the top-1).
Exit 2 on bad arguments or an export without accuracy images.
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import onnx_model
import ort_bench


def with_logits(path):
    """The model at `path` with the final softmax's input as a second graph output, and how to
    turn that output into fp32 logits."""
    model = onnx.load(path)
    producer = {o: n for n in model.graph.node for o in n.output}
    softmax = producer.get(model.graph.output[0].name)
    while softmax is not None and softmax.op_type in ("QuantizeLinear", "DequantizeLinear"):   # a quantized softmax's output
        softmax = producer.get(softmax.input[0])
    if softmax is None or softmax.op_type not in ("Softmax", "QLinearSoftmax"):
        raise SystemExit("%s: the graph's output is not a softmax's: no logits to compare" % path)
    logits = softmax.input[0]
    to_float, dtype = (lambda a: a.astype(np.float64)), TensorProto.FLOAT
    if softmax.op_type == "QLinearSoftmax":   # inputs X, X_scale, X_zero_point, Y_scale, Y_zero_point
        inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        scale, zero = float(inits[softmax.input[1]]), inits[softmax.input[2]]
        to_float, dtype = (lambda a: (a.astype(np.float64) - int(zero)) * scale), helper.np_dtype_to_tensor_dtype(zero.dtype)
    model.graph.output.append(helper.make_tensor_value_info(logits, dtype, None))
    return model, to_float


def logits(path, images):
    model, to_float = with_logits(path)
    sess = ort_bench.session(model.SerializeToString(), 1)
    name = sess.get_inputs()[0].name
    return np.stack([to_float(sess.run(None, {name: x})[1]).reshape(-1) for x in images])


def main():
    if len(sys.argv) != 4:
        print("usage: onnx_accuracy.py FP32.onnx INT8.onnx EXPORT_DIR", file=sys.stderr)
        sys.exit(2)
    fp32_path, int8_path, export = sys.argv[1:]
    index, _, tensors = onnx_model.load_export(export)
    images = tensors["accuracy"]
    if not images:
        print("%s: no accuracy images: export with `socprof networks %s --export DIR --accuracy-images 100`" % (export, index["network"]),
              file=sys.stderr)
        sys.exit(2)
    ref, q = logits(fp32_path, images), logits(int8_path, images)
    top1 = (ref.argmax(1) == q.argmax(1)).mean()
    top5 = np.mean([a.argmax() in np.argsort(-b)[:5] for a, b in zip(ref, q)])
    cos = (ref * q).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(q, axis=1))
    error = np.abs(q - ref).max() / np.abs(ref).max()
    # How decided the fp32 model is: the gap between its first two logits, relative to the largest.
    s = np.sort(ref, 1)
    margin = np.median((s[:, -1] - s[:, -2]) / np.abs(ref).max(1))
    print(line("onnxruntime", index["network"], len(images), top1, top5, cos.mean(), cos.min(), error)
          + " (fp32: %d distinct top-1 classes, top-1 margin median %.1e of max |logit|)" % (len(set(ref.argmax(1))), margin))


def line(runtime, network, images, top1, top5, mean_cosine, min_cosine, error):
    """One accuracy line, the same for socprof's figures (QuantizationAccuracy) and onnxruntime's."""
    return ("%-10s %-11s int8 vs fp32, %d images: top-1 agreement %5.1f%%, fp32 top-1 in int8 top-5 %5.1f%%, "
            "logit cosine mean %.6f min %.6f, max |logit error| %.1e of max |logit|"
            % (network, runtime, images, 100 * top1, 100 * top5, mean_cosine, min_cosine, error))

if __name__ == "__main__":
    main()
