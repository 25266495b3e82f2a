#!/usr/bin/env python3
"""onnxruntime's int8 model of a socprof network, calibrated on socprof's calibration images.

    onnx_quantize.py NET SOCPROF_JSON EXPORT_DIR FP32_OUT.onnx INT8_OUT.onnx [--format qdq|qoperator] [--ends fp32|int8]

SOCPROF_JSON: `socprof networks NET --json`; EXPORT_DIR: `socprof networks NET --export DIR
--calibration-images N` (N >= 1: socprof's weights and its calibration images,
CalibrationImages.seed(i), the inputs socprof's own int8 calibration runs on). onnx_model.py
builds NET in ONNX with socprof's weights and checks it against socprof's layer list (exit 2 if it
differs); that fp32 model is written to FP32_OUT, and onnxruntime.quantization.quantize_static
quantizes it to INT8_OUT with:
  - weights int8, per output channel, symmetric (per_channel=True, WeightSymmetric);
  - activations uint8, per tensor, asymmetric (ActivationSymmetric False), reduce_range off
    (onnxruntime's default; with AVX-512 VNNI its sums are exact, on a CPU with AVX2 alone its
    u8 x s8 kernel adds pairs of products in int16 with `vpmaddubsw`, which can saturate, where
    socprof's AVX2 kernel is exact: docs/kernels.md, "Saturation");
  - MinMax calibration over the N exported images, one at a time (batch 1);
  - --format qdq (default: QuantizeLinear/DequantizeLinear pairs around fp32 operators, which
    onnxruntime fuses into int8 kernels when it loads the model) or qoperator (QLinearConv and
    friends written in the file);
  - --ends fp32 (default, as socprof's int8 mode): the first convolution (and its activation), the
    last weighted layer (the logits) and the softmax stay fp32 (nodes_to_exclude); --ends int8
    quantizes them too (left to itself, quantize_static quantizes every node it has an int8
    operator for, the first and last convolutions and the softmax included).
Prints one line: the nodes quantized and excluded. Exit 2 on bad arguments or an export without
calibration images.
"""
import importlib.util
import os
import sys

import onnx

# onnxruntime.quantization imports onnxruntime/transformers modules that append their folder to
# sys.path and `from onnx_model import OnnxModel`: this folder's onnx_model.py, first on sys.path,
# would be found instead. So onnxruntime is imported without this folder on the path, and ours is
# loaded under another name.
_here = os.path.dirname(os.path.abspath(__file__))
_path = list(sys.path)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static  # noqa: E402
sys.path[:] = _path
_spec = importlib.util.spec_from_file_location("socprof_onnx_model", os.path.join(_here, "onnx_model.py"))
onnx_model = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(onnx_model)

USAGE = ("usage: onnx_quantize.py {%s} SOCPROF_NETWORKS_JSON EXPORT_DIR FP32_OUT.onnx INT8_OUT.onnx "
         "[--format qdq|qoperator] [--ends fp32|int8]" % ",".join(onnx_model.BUILDERS))
FORMATS = {"qdq": QuantFormat.QDQ, "qoperator": QuantFormat.QOperator}


class Images(CalibrationDataReader):
    """The exported calibration images, one feed each."""

    def __init__(self, images):
        self.feeds = iter([{"input": x} for x in images])

    def get_next(self):
        return next(self.feeds, None)


def ends(model):
    """The nodes socprof's int8 mode keeps in fp32: the first convolution with its activation, and
    the graph's output layer, with the layer before it (and its activation) when it is a softmax."""
    producer = {o: n for n in model.graph.node for o in n.output}
    consumers = lambda t: [n for n in model.graph.node if t in n.input]
    first = [n for n in consumers("input") if n.op_type == "Conv"]
    if len(first) != 1:
        raise SystemExit("the graph's input feeds %d convolutions, not one" % len(first))
    names = [first[0].name] + [n.name for n in consumers(first[0].output[0]) if n.op_type in ("Relu", "Clip")]
    last = producer[model.graph.output[0].name]
    names.append(last.name)
    if last.op_type == "Softmax":
        before = producer[last.input[0]]
        if before.op_type in ("Relu", "Clip"):
            names.append(before.name)
            before = producer[before.input[0]]
        names.append(before.name)
    return names


def quantize(fp32_path, images, out, quant_format="qdq", keep_ends_fp32=True):
    """Quantizes the fp32 model at `fp32_path` to `out`, calibrated on `images`; returns the names
    of the nodes left in fp32. (A path, not a ModelProto: quantize_static moves a ModelProto's
    initializers out to a temporary file it then deletes.)"""
    excluded = ends(onnx.load(fp32_path)) if keep_ends_fp32 else []
    quantize_static(fp32_path, out, Images(images),
                    quant_format=FORMATS[quant_format],
                    per_channel=True, reduce_range=False,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    nodes_to_exclude=excluded,
                    extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
    return excluded


def main():
    args = sys.argv[1:]
    options = {"--format": "qdq", "--ends": "fp32"}
    while len(args) > 5 and args[-2] in options:
        options[args[-2]] = args[-1]
        args = args[:-2]
    if len(args) != 5 or args[0] not in onnx_model.BUILDERS:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    if options["--format"] not in FORMATS or options["--ends"] not in ("fp32", "int8"):
        print("onnx_quantize.py: --format %s --ends %s: give --format qdq or qoperator, --ends fp32 or int8\n%s"
              % (options["--format"], options["--ends"], USAGE), file=sys.stderr)
        sys.exit(2)
    net, socprof_json, export, fp32_out, int8_out = args
    index, weights, tensors = onnx_model.load_export(export)
    if index["network"] != net:
        print("%s: an export of %s, not %s" % (export, index["network"], net), file=sys.stderr)
        sys.exit(2)
    if not tensors["calibration"]:
        print("%s: no calibration images: export with `socprof networks %s --export DIR --calibration-images 8`" % (export, net), file=sys.stderr)
        sys.exit(2)
    model, _ = onnx_model.checked_model(net, socprof_json, weights)
    onnx.save(model, fp32_out)
    excluded = quantize(fp32_out, tensors["calibration"], int8_out, options["--format"], options["--ends"] == "fp32")
    q = onnx.load(int8_out)
    ops = {}
    for n in q.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("%-10s onnxruntime int8 (%s, per-channel int8 weights, uint8 activations, MinMax over %d calibration images): "
          "%s; fp32 nodes kept: %s"
          % (net, options["--format"], len(tensors["calibration"]), ", ".join("%s %d" % kv for kv in sorted(ops.items())),
             ", ".join(excluded) if excluded else "none (--ends int8)"))


if __name__ == "__main__":
    main()
