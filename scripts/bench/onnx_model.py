#!/usr/bin/env python3
"""The six networks in ONNX, layer for layer as socprof builds them, checked against socprof.

    onnx_model.py NET SOCPROF_JSON OUT.onnx [--weights EXPORT_DIR]

NET is alexnet, googlenet, mobilenet, resnet50, squeezenet or squeezenet-1.1; SOCPROF_JSON is the
output of `socprof networks NET --json`. Writes OUT.onnx (random weights, seeded; with --weights,
socprof's own weights read from `socprof networks NET --export EXPORT_DIR`, every one used
exactly once and of the shape this generator expects) and checks it against socprof's layer list,
reading everything back from the ONNX graph (not from this generator's intent): for every socprof
layer, the ONNX tensor of the same name must exist and have the same shape; the node behind it
the same kind (conv, dwconv, fc, maxpool, avgpool, gpool, lrn, concat, add, softmax...), fused
activation (Clip 0..6 = relu6, Relu) and inputs; every Conv and Gemm the same MACs and parameter
count; none left unmatched. Exit 0 and one summary line when all of that holds and the MAC totals
differ by at most 0.1%; exit 2 and the differences otherwise (the caller then prints no comparison).

The layers mirror Sources/Networks/*.swift (ACL's graph examples): batch norm folded into the
convolutions (each has a bias, no BatchNormalization node), ReLU6 / ReLU as separate Clip / Relu
nodes that onnxruntime fuses into the Conv; MobileNet's and ResNet-50's logits a 1x1 convolution
with softmax over the channels of the 1x(classes)x1x1 tensor; fully connected layers (AlexNet,
GoogLeNet) Flatten then Gemm with transB = 1, 2-D [1, outputs]; max pools with socprof's ceil
rounding as ceil_mode = 1; LRN with ONNX's alpha/size, as socprof's.
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

OPSET = 17
IR_VERSION = 8   # old enough for any onnxruntime that supports opset 17


class Builder:
    """Adds nodes whose final output tensor carries the socprof layer's name."""

    def __init__(self, name, seed, weights=None, input_size=224):
        """weights: None (random) or {layer name: (W, B)} from load_export, consumed as used."""
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.weights = weights
        self.nodes, self.inits = [], []
        self.flat = set()   # tensors that are 2-D [1, c] in ONNX (fully connected outputs)
        self.shapes = {"input": (3, input_size, input_size)}   # c, h, w: what this generator expects (checked again from the graph)

    def _activation(self, name, raw, activation):
        if activation is None:
            return
        if activation == "relu6":
            if not any(t.name == "clip_min" for t in self.inits):   # only where used: onnxruntime warns about unused initializers
                self.inits.append(numpy_helper.from_array(np.array(0, np.float32), "clip_min"))
                self.inits.append(numpy_helper.from_array(np.array(6, np.float32), "clip_max"))
            self.nodes.append(helper.make_node("Clip", [raw, "clip_min", "clip_max"], [name], name=name + ":relu6"))
        elif activation == "relu":
            self.nodes.append(helper.make_node("Relu", [raw], [name], name=name + ":relu"))
        else:
            raise ValueError(activation)

    def conv(self, name, x, out_c, k, stride=1, pads=(0, 0, 0, 0), groups=1, activation=None, gain=1.0):
        """pads: top, left, bottom, right (socprof's Padding order)."""
        in_c = self.shapes[x][0]
        fan_in = in_c // groups * k * k
        if self.weights is None:
            w = (self.rng.standard_normal((out_c, in_c // groups, k, k)) * gain * np.sqrt(2.0 / fan_in)).astype(np.float32)
            b = (self.rng.standard_normal(out_c) * 0.01).astype(np.float32)
        else:
            if name not in self.weights:
                raise SystemExit("%s: no weights for this layer in socprof's export" % name)
            w, b = self.weights.pop(name)
            if w.shape != (out_c, in_c // groups, k, k) or b.shape != (out_c,):
                raise SystemExit("%s: socprof's weights %s and bias %s, this generator expects %s and %s"
                                 % (name, w.shape, b.shape, (out_c, in_c // groups, k, k), (out_c,)))
        self.inits += [numpy_helper.from_array(w, name + ":W"), numpy_helper.from_array(b, name + ":B")]
        top, left, bottom, right = pads
        raw = name if activation is None else name + ":pre"
        self.nodes.append(helper.make_node("Conv", [x, name + ":W", name + ":B"], [raw], name=name,
                                           kernel_shape=[k, k], strides=[stride, stride],
                                           pads=[top, left, bottom, right], group=groups))
        self._activation(name, raw, activation)
        c, h, wd = self.shapes[x]
        self.shapes[name] = (out_c, (h + top + bottom - k) // stride + 1, (wd + left + right - k) // stride + 1)
        return name

    def fc(self, name, x, outputs, activation=None):
        """Fully connected: Flatten (c, h, w order, socprof's) then Gemm with W [outputs, inputs], transB = 1;
        its output is 2-D [1, outputs], seen as (outputs, 1, 1) as socprof shapes it."""
        inputs = int(np.prod(self.shapes[x]))
        if self.weights is None:
            w = (self.rng.standard_normal((outputs, inputs)) * np.sqrt(2.0 / inputs)).astype(np.float32)
            b = (self.rng.standard_normal(outputs) * 0.01).astype(np.float32)
        else:
            if name not in self.weights:
                raise SystemExit("%s: no weights for this layer in socprof's export" % name)
            w, b = self.weights.pop(name)
            if w.shape != (outputs, inputs) or b.shape != (outputs,):
                raise SystemExit("%s: socprof's weights %s and bias %s, this generator expects %s and %s"
                                 % (name, w.shape, b.shape, (outputs, inputs), (outputs,)))
        self.inits += [numpy_helper.from_array(w, name + ":W"), numpy_helper.from_array(b, name + ":B")]
        self.nodes.append(helper.make_node("Flatten", [x], [name + ":flat"], name=name + ":flatten", axis=1))
        raw = name if activation is None else name + ":pre"
        self.nodes.append(helper.make_node("Gemm", [name + ":flat", name + ":W", name + ":B"], [raw], name=name, transB=1))
        self._activation(name, raw, activation)
        self.shapes[name] = (outputs, 1, 1)
        self.flat.add(name)
        return name

    def lrn(self, name, x, size, alpha, beta, k):
        """Cross-channel LRN: ONNX's alpha is divided by size as socprof's (and Caffe's, ACL's) is."""
        self.nodes.append(helper.make_node("LRN", [x], [name], name=name, size=size, alpha=alpha, beta=beta, bias=k))
        self.shapes[name] = self.shapes[x]
        return name

    def maxpool(self, name, x, k, stride, pads=(0, 0, 0, 0), ceil=False):
        """ceil: socprof's .ceil rounding (Caffe's), ONNX ceil_mode = 1 (no padding: no window starts in it)."""
        top, left, bottom, right = pads
        self.nodes.append(helper.make_node("MaxPool", [x], [name], name=name, kernel_shape=[k, k], strides=[stride, stride],
                                           pads=[top, left, bottom, right], ceil_mode=1 if ceil else 0))
        c, h, w = self.shapes[x]
        up = stride - 1 if ceil else 0
        self.shapes[name] = (c, (h + top + bottom - k + up) // stride + 1, (w + left + right - k + up) // stride + 1)
        return name

    def avgpool(self, name, x, k, stride):
        """Average pool without padding (GoogLeNet's 7x7/1 on 7x7)."""
        self.nodes.append(helper.make_node("AveragePool", [x], [name], name=name, kernel_shape=[k, k], strides=[stride, stride]))
        c, h, w = self.shapes[x]
        self.shapes[name] = (c, (h - k) // stride + 1, (w - k) // stride + 1)
        return name

    def concat(self, name, xs):
        self.nodes.append(helper.make_node("Concat", list(xs), [name], name=name, axis=1))
        c = sum(self.shapes[x][0] for x in xs)
        self.shapes[name] = (c,) + self.shapes[xs[0]][1:]
        return name

    def global_avgpool(self, name, x):
        self.nodes.append(helper.make_node("GlobalAveragePool", [x], [name], name=name))
        self.shapes[name] = (self.shapes[x][0], 1, 1)
        return name

    def add(self, name, a, b, activation=None):
        raw = name if activation is None else name + ":pre"
        self.nodes.append(helper.make_node("Add", [a, b], [raw], name=name))
        self._activation(name, raw, activation)
        self.shapes[name] = self.shapes[a]
        return name

    def softmax(self, name, x):
        self.nodes.append(helper.make_node("Softmax", [x], [name], name=name, axis=1))
        self.shapes[name] = self.shapes[x]
        if x in self.flat:
            self.flat.add(name)
        return name

    def model(self, output):
        c, h, w = self.shapes[output]
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1] + list(self.shapes["input"]))],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, c] if output in self.flat else [1, c, h, w])],
            self.inits)
        if self.weights:
            raise SystemExit("socprof's export has weights for layers this generator does not build: %s" % ", ".join(sorted(self.weights)))
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="socprof scripts/bench/onnx_model.py")
        m.ir_version = IR_VERSION
        onnx.checker.check_model(m)
        return m


def mobilenet(weights=None):
    """Sources/Networks/MobileNet.swift: MobileNet v1 1.0/224, ACL's graph_mobilenet.cpp."""
    g = Builder("mobilenet", seed=1, weights=weights)
    stride2 = (0, 0, 1, 1)   # PadStrideInfo(2, 2, 0, 1, 0, 1): 0 before, 1 after
    x = g.conv("Conv2d_0", "input", 32, 3, stride=2, pads=stride2, activation="relu6")
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
              (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
    for i, (channels, stride) in enumerate(blocks):
        name = "Conv2d_%d" % (i + 1)
        c = g.shapes[x][0]
        x = g.conv(name + "_depthwise/depthwise", x, c, 3, stride=stride, pads=stride2 if stride == 2 else (1, 1, 1, 1),
                   groups=c, activation="relu6")
        x = g.conv(name + "_pointwise/Conv2D", x, channels, 1, activation="relu6")
    x = g.global_avgpool("Logits/AvgPool_1a", x)
    x = g.conv("Logits/Conv2d_1c_1x1", x, 1001, 1)
    return g.model(g.softmax("Softmax", x))


def resnet50(weights=None):
    """Sources/Networks/ResNet50.swift: ResNet-50 v1 (TF-slim), ACL's graph_resnet50.cpp."""
    g = Builder("resnet50", seed=2, weights=weights)
    x = g.conv("conv1/convolution", "input", 64, 7, stride=2, pads=(3, 3, 3, 3), activation="relu")
    x = g.maxpool("pool1/MaxPool", x, 3, 2, pads=(0, 0, 1, 1))
    for block, depth, units, stride in [("block1", 64, 3, 2), ("block2", 128, 4, 2), ("block3", 256, 6, 2), ("block4", 512, 3, 1)]:
        for i in range(units):
            unit = "%s/unit%d/bottleneck_v1/" % (block, i + 1)
            middle = stride if i == units - 1 else 1   # TF-slim: the stride sits in the block's last unit
            r = g.conv(unit + "conv1/convolution", x, depth, 1, activation="relu")
            r = g.conv(unit + "conv2/convolution", r, depth, 3, stride=middle, pads=(1, 1, 1, 1), activation="relu")
            r = g.conv(unit + "conv3/convolution", r, depth * 4, 1, gain=0.3)   # tame the residual growth (no BN)
            if i == 0:
                left = g.conv(unit + "shortcut/convolution", x, depth * 4, 1)
            elif middle > 1:
                left = g.maxpool(unit + "shortcut/MaxPool", x, 1, middle)
            else:
                left = x
            x = g.add(unit + "add", left, r, activation="relu")
    x = g.global_avgpool("pool5", x)
    x = g.conv("logits/convolution", x, 1000, 1)
    return g.model(g.softmax("predictions/Softmax", x))


def alexnet(weights=None):
    """Sources/Networks/AlexNet.swift: AlexNet (BVLC Caffe), ACL's graph_alexnet.cpp."""
    g = Builder("alexnet", seed=4, weights=weights, input_size=227)
    x = g.conv("conv1", "input", 96, 11, stride=4, activation="relu")
    x = g.lrn("norm1", x, 5, 1e-4, 0.75, 1.0)
    x = g.maxpool("pool1", x, 3, 2)
    x = g.conv("conv2", x, 256, 5, pads=(2, 2, 2, 2), groups=2, activation="relu")
    x = g.lrn("norm2", x, 5, 1e-4, 0.75, 1.0)
    x = g.maxpool("pool2", x, 3, 2)
    x = g.conv("conv3", x, 384, 3, pads=(1, 1, 1, 1), activation="relu")
    x = g.conv("conv4", x, 384, 3, pads=(1, 1, 1, 1), groups=2, activation="relu")
    x = g.conv("conv5", x, 256, 3, pads=(1, 1, 1, 1), groups=2, activation="relu")
    x = g.maxpool("pool5", x, 3, 2)
    x = g.fc("fc6", x, 4096, activation="relu")
    x = g.fc("fc7", x, 4096, activation="relu")
    x = g.fc("fc8", x, 1000)
    return g.model(g.softmax("prob", x))


def googlenet(weights=None):
    """Sources/Networks/GoogLeNet.swift: GoogLeNet (BVLC Caffe, no auxiliary classifiers), ACL's graph_googlenet.cpp."""
    g = Builder("googlenet", seed=5, weights=weights)

    def inception(name, x, a, b, c, d):
        ia = g.conv(name + "/1x1", x, a, 1, activation="relu")
        ib = g.conv(name + "/3x3_reduce", x, b[0], 1, activation="relu")
        ib = g.conv(name + "/3x3", ib, b[1], 3, pads=(1, 1, 1, 1), activation="relu")
        ic = g.conv(name + "/5x5_reduce", x, c[0], 1, activation="relu")
        ic = g.conv(name + "/5x5", ic, c[1], 5, pads=(2, 2, 2, 2), activation="relu")
        id_ = g.maxpool(name + "/pool", x, 3, 1, pads=(1, 1, 1, 1), ceil=True)
        id_ = g.conv(name + "/pool_proj", id_, d, 1, activation="relu")
        return g.concat(name + "/concat", [ia, ib, ic, id_])

    x = g.conv("conv1/7x7_s2", "input", 64, 7, stride=2, pads=(3, 3, 3, 3), activation="relu")
    x = g.maxpool("pool1/3x3_s2", x, 3, 2, ceil=True)
    x = g.lrn("pool1/norm1", x, 5, 1e-4, 0.75, 1.0)
    x = g.conv("conv2/3x3_reduce", x, 64, 1, activation="relu")
    x = g.conv("conv2/3x3", x, 192, 3, pads=(1, 1, 1, 1), activation="relu")
    x = g.lrn("conv2/norm2", x, 5, 1e-4, 0.75, 1.0)
    x = g.maxpool("pool2/3x3_s2", x, 3, 2, ceil=True)
    x = inception("inception_3a", x, 64, (96, 128), (16, 32), 32)
    x = inception("inception_3b", x, 128, (128, 192), (32, 96), 64)
    x = g.maxpool("pool3/3x3_s2", x, 3, 2, ceil=True)
    x = inception("inception_4a", x, 192, (96, 208), (16, 48), 64)
    x = inception("inception_4b", x, 160, (112, 224), (24, 64), 64)
    x = inception("inception_4c", x, 128, (128, 256), (24, 64), 64)
    x = inception("inception_4d", x, 112, (144, 288), (32, 64), 64)
    x = inception("inception_4e", x, 256, (160, 320), (32, 128), 128)
    x = g.maxpool("pool4/3x3_s2", x, 3, 2, ceil=True)
    x = inception("inception_5a", x, 256, (160, 320), (32, 128), 128)
    x = inception("inception_5b", x, 384, (192, 384), (48, 128), 128)
    x = g.avgpool("pool5/7x7_s1", x, 7, 1)
    x = g.fc("loss3/classifier", x, 1000)
    return g.model(g.softmax("prob", x))


def squeezenet(weights=None, v11=False):
    """Sources/Networks/SqueezeNet.swift: SqueezeNet v1.0 (224) or v1.1 (227), ACL's graph_squeezenet*.cpp."""
    g = Builder("squeezenet-1.1" if v11 else "squeezenet", seed=3, weights=weights, input_size=227 if v11 else 224)

    def fire(name, x, squeeze, expand):
        s_ = g.conv(name + "/squeeze1x1", x, squeeze, 1, activation="relu")
        e1 = g.conv(name + "/expand1x1", s_, expand, 1, activation="relu")
        e3 = g.conv(name + "/expand3x3", s_, expand, 3, pads=(1, 1, 1, 1), activation="relu")
        return g.concat(name + "/concat", [e1, e3])

    if v11:
        x = g.conv("conv1", "input", 64, 3, stride=2, activation="relu")
        x = g.maxpool("pool1", x, 3, 2, ceil=True)
        plan = [("fire2", 16, 64), ("fire3", 16, 64), "pool3", ("fire4", 32, 128), ("fire5", 32, 128), "pool5",
                ("fire6", 48, 192), ("fire7", 48, 192), ("fire8", 64, 256), ("fire9", 64, 256)]
    else:
        x = g.conv("conv1", "input", 96, 7, stride=2, activation="relu")
        x = g.maxpool("pool1", x, 3, 2, ceil=True)
        plan = [("fire2", 16, 64), ("fire3", 16, 64), ("fire4", 32, 128), "pool4", ("fire5", 32, 128), ("fire6", 48, 192),
                ("fire7", 48, 192), ("fire8", 64, 256), "pool8", ("fire9", 64, 256)]
    for step in plan:
        x = g.maxpool(step, x, 3, 2, ceil=True) if isinstance(step, str) else fire(step[0], x, step[1], step[2])
    x = g.conv("conv10", x, 1000, 1, activation="relu")
    x = g.global_avgpool("pool10", x)
    return g.model(g.softmax("prob", x))


BUILDERS = {"alexnet": alexnet, "googlenet": googlenet, "mobilenet": mobilenet, "resnet50": resnet50, "squeezenet": squeezenet,
            "squeezenet-1.1": lambda weights=None: squeezenet(weights, v11=True)}


def load_export(directory):
    """`socprof networks NET --export DIR`: (index, {layer: (W, B)}, {role: array}) with the
    weights of every layer that has them and the input, logits and output (shaped 1 x c x h x w);
    the images of --calibration-images and --accuracy-images as lists, in seed order, under
    "calibration" and "accuracy" (empty when the export has none)."""
    import os
    with open(os.path.join(directory, "index.json")) as f:
        index = json.load(f)
    data = np.fromfile(os.path.join(directory, index["data"]), dtype="<f4")
    tensors, weights = {"calibration": [], "accuracy": []}, {}
    for t in index["tensors"]:
        start = t["offset"] // 4
        a = data[start:start + t["count"]]
        if a.size != t["count"]:
            raise SystemExit("%s: %s of %s runs past the end of %s" % (directory, t["role"], t["layer"], index["data"]))
        a = a.reshape(t["shape"]).astype(np.float32)
        if t["role"] in ("weights", "bias"):
            weights.setdefault(t["layer"], [None, None])[0 if t["role"] == "weights" else 1] = a
        elif t["role"] in ("calibration", "accuracy"):
            tensors[t["role"]].append(a.reshape((1,) + a.shape))
        else:
            tensors[t["role"]] = a.reshape((1,) + a.shape)
            tensors[t["role"] + "_layer"] = t["layer"]
    return index, {k: tuple(v) for k, v in weights.items()}, tensors


def describe(model):
    """Per named tensor, what the ONNX graph itself says: (kind, activation, inputs, shape c,h,w, macs, params)."""
    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = tuple(dims) + (1,) * (4 - len(dims))   # [1, c] (fully connected) seen as 1 x c x 1 x 1
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    attrs = lambda n: {a.name: helper.get_attribute_value(a) for a in n.attribute}

    out, conv_nodes = {}, []
    for name, node in producer.items():
        if name.endswith(":pre") or name.endswith(":flat"):
            continue
        activation, op = None, node
        if node.op_type == "Clip":
            lo, hi = float(inits[node.input[1]]), float(inits[node.input[2]])
            activation = "relu6" if (lo, hi) == (0.0, 6.0) else "clip(%g,%g)" % (lo, hi)
            op = producer[node.input[0]]
        elif node.op_type == "Relu":
            activation, op = "relu", producer[node.input[0]]
        a = attrs(op)
        macs = params = 0
        if op.op_type == "Conv":
            w = inits[op.input[1]]
            o_n, o_c, o_h, o_w = shapes[op.output[0]]
            group = a.get("group", 1)
            in_c = shapes[op.input[0]][1]
            if w.shape[1] * group != in_c:
                raise SystemExit("%s: weight %s does not fit %d input channels in %d groups" % (name, w.shape, in_c, group))
            macs = o_n * o_c * o_h * o_w * w.shape[1] * w.shape[2] * w.shape[3]
            params = w.size + (inits[op.input[2]].size if len(op.input) > 2 else 0)
            kind = "conv" if group == 1 else ("dwconv" if group == o_c else "gconv")
            conv_nodes.append(op.name)
        elif op.op_type == "Gemm":
            w = inits[op.input[1]]
            if a.get("transB", 0) != 1 or producer[op.input[0]].op_type != "Flatten":
                raise SystemExit("%s: a Gemm that is not Flatten then x W^T" % name)
            macs = w.shape[0] * w.shape[1]
            params = w.size + (inits[op.input[2]].size if len(op.input) > 2 else 0)
            kind = "fc"
            conv_nodes.append(op.name)
        elif op.op_type == "MatMul":
            raise SystemExit("%s: unexpected MatMul (this generator makes fully connected layers Gemm)" % name)
        else:
            kind = {"MaxPool": "maxpool", "AveragePool": "avgpool", "GlobalAveragePool": "gpool", "GlobalMaxPool": "gpool",
                    "Add": "add", "Softmax": "softmax", "Concat": "concat", "LRN": "lrn"}.get(op.op_type, op.op_type)
        inputs = [producer[i].input[0] if i in producer and producer[i].op_type == "Flatten" else i
                  for i in op.input if i not in inits]
        n, c, h, w_ = shapes[name]
        out[name] = dict(kind=kind, activation=activation, inputs=inputs, shape=(c, h, w_), macs=macs, params=params,
                         order=[n_.name for n_ in model.graph.node].index(op.name), op=op.name)
    n, c, h, w_ = shapes["input"]
    out["input"] = dict(kind="input", activation=None, inputs=[], shape=(c, h, w_), macs=0, params=0, order=-1, op=None)
    return out, conv_nodes


def check(model, socprof):
    """Differences between the ONNX graph and socprof's layer list (empty: the same network), and the MAC totals."""
    ours, conv_nodes = describe(model)
    problems = []
    matched = set()
    last_order = -2
    for layer in socprof["layers"]:
        name = layer["name"]
        o = ours.get(name)
        if o is None:
            problems.append("%s: no ONNX tensor of that name" % name)
            continue
        want = dict(kind=layer["kind"], activation=layer.get("activation"), inputs=layer["inputs"],
                    shape=(layer["output"]["c"], layer["output"]["h"], layer["output"]["w"]),
                    macs=layer["cost"]["macs"], params=layer["cost"]["params"])
        for key, value in want.items():
            if o[key] != value and not (key == "inputs" and layer["kind"] == "add" and sorted(o[key]) == sorted(value)):
                problems.append("%s: %s socprof %s, ONNX %s" % (name, key, value, o[key]))
        if o["order"] <= last_order and name != "input":
            problems.append("%s: out of socprof's order in the ONNX graph" % name)
        last_order = max(last_order, o["order"])
        if o["op"]:
            matched.add(o["op"])
    for n in conv_nodes:
        if n not in matched:
            problems.append("ONNX Conv %s matches no socprof layer" % n)
    onnx_macs = sum(o["macs"] for o in ours.values())
    # Layer by layer in order: socprof's MAC layers against the ONNX Conv nodes in graph order.
    theirs_seq = [l["cost"]["macs"] for l in socprof["layers"] if l["cost"]["macs"] > 0]
    ours_seq = [o["macs"] for o in sorted(ours.values(), key=lambda o: o["order"]) if o["macs"] > 0]
    if theirs_seq != ours_seq:
        problems.append("MAC layers in order differ: socprof %d layers, ONNX %d" % (len(theirs_seq), len(ours_seq)))
    return problems, onnx_macs, socprof["macs"], len(ours_seq)


def checked_model(net, socprof_json, weights=None):
    """The ONNX model of NET (weights: None for random ones, or load_export's) and its summary
    line, once it has been checked against socprof's layer list; exit 2 with the differences otherwise."""
    with open(socprof_json) as f:
        nets = [n for n in json.load(f)["networks"] if n["name"] == net]
    if len(nets) != 1:
        raise SystemExit("%s: no network %s in it" % (socprof_json, net))
    model = BUILDERS[net](weights)
    problems, ours, theirs, count = check(model, nets[0])
    diff = abs(ours - theirs) / theirs
    if diff > 0.001:
        problems.append("total MACs: ONNX %d, socprof %d (%.3f%% apart, more than 0.1%%)" % (ours, theirs, 100 * diff))
    if problems:
        print("%s: the ONNX graph is not socprof's network:" % net, file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        sys.exit(2)
    return model, ("%-10s ONNX graph = socprof's: %d layers (names, kinds, activations, inputs, shapes), %d conv and fc layers' MACs and params; "
                   "MACs %d vs %d (%.4f%% apart)" % (net, len(nets[0]["layers"]), count, ours, theirs, 100 * diff))


def main():
    args = sys.argv[1:]
    weights = None
    if len(args) == 5 and args[3] == "--weights":
        weights = load_export(args[4])[1]
        args = args[:3]
    if len(args) != 3 or args[0] not in BUILDERS:
        raise SystemExit("usage: onnx_model.py {%s} SOCPROF_NETWORKS_JSON OUT.onnx [--weights EXPORT_DIR]" % ",".join(BUILDERS))
    net, socprof_json, path = args
    model, summary = checked_model(net, socprof_json, weights)
    onnx.save(model, path)
    print(summary + ("; socprof's weights" if weights is not None else ""))

if __name__ == "__main__":
    main()
