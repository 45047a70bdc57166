#!/usr/bin/python3
"""Golden values for the part-B custom ops in ops/ (resize, softmax, cross-entropy, pad,
reductions, slice, concat, transpose, broadcasting arithmetic, L2 normalisation).

    /usr/bin/python3 scripts/gen_ops_golden_b.py            # rewrites ops/testdata/b_golden.json

Made with Debian's python3-torch 1.13 and numpy (versions are recorded in the file), seed 0,
all in float64. The references are PyTorch's own functions: F.interpolate (bilinear with
align_corners False/True = ONNX half_pixel/align_corners; nearest = ONNX asymmetric + floor),
F.softmax/F.log_softmax, F.cross_entropy(ignore_index=255) and its autograd gradient, F.pad
(constant, reflect, replicate), torch.sum/mean, torch.cat, permute, + - * /,
F.normalize; numpy.pad for reflect/edge on any axis (including pads wider than the axis) and
Python slicing for Slice. For negative pads (crops) the crop is applied first and the rest
padded, which is onnxruntime's rule.

Inputs are seeded uniform values in [-1, 1) rounded to 4 decimals (short to store, exact in
float64); outputs are written with 17 significant digits. ops/golden_shape_ops_test.go (package ops)
reads the file and runs each case through the Go op in float64 and float32. The default Go
test run needs only the JSON file, never Python.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 0
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops", "testdata", "b_golden.json")

gen = torch.Generator().manual_seed(SEED)


def rand(*shape, away=False):
    """Seeded uniform [-1, 1) float64 values rounded to 4 decimals; away=True moves them to
    |v| >= 0.5 (divisors)."""
    x = torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1
    if away:
        x = x + torch.sign(x) * 0.5
    return torch.round(x * 1e4) / 1e4


def enc(t):
    if isinstance(t, np.ndarray):
        t = np.ascontiguousarray(t)  # negative-step slices
    t = torch.as_tensor(t, dtype=torch.float64)
    return {"shape": list(t.shape), "data": [float("%.17g" % v) for v in t.flatten().tolist()]}


cases = []


def add(name, op, params, inputs, output, grads=None):
    c = {"name": name, "op": op, "params": params, "inputs": [enc(i) for i in inputs], "output": enc(output)}
    if grads is not None:
        c["grads"] = [enc(g) for g in grads]
    cases.append(c)


# Resize: up/down, odd sizes, one output row/element, and an input axis of length 1.
x = rand(1, 2, 5, 7)
x1 = rand(1, 1, 1, 4)
for inp, sizes in ((x, [(11, 4), (3, 9), (1, 5), (8, 14), (1, 1), (2, 3)]), (x1, [(3, 5), (1, 2)])):
    for (h, w) in sizes:
        for ac in (False, True):
            y = F.interpolate(inp, size=(h, w), mode="bilinear", align_corners=ac)
            coord = "align_corners" if ac else "half_pixel"
            add("resize bilinear %s %s->%s" % (coord, list(inp.shape[2:]), [h, w]), "resize",
                {"size": [h, w], "mode": "linear", "coord": coord, "nearest": "floor"}, [inp], y)
        y = F.interpolate(inp, size=(h, w), mode="nearest")
        add("resize nearest %s->%s" % (list(inp.shape[2:]), [h, w]), "resize",
            {"size": [h, w], "mode": "nearest", "coord": "asymmetric", "nearest": "floor"}, [inp], y)

# Softmax and LogSoftmax along several axes.
x = rand(2, 3, 4, 5)
for axis in (1, -1, 0):
    add("softmax axis %d" % axis, "softmax", {"axis": axis, "log": False}, [x], F.softmax(x, dim=axis))
    add("log_softmax axis %d" % axis, "softmax", {"axis": axis, "log": True}, [x], F.log_softmax(x, dim=axis))
big = rand(3, 4) * 500  # large logits: only the max-shifted form stays finite in float32
add("softmax large logits", "softmax", {"axis": 1, "log": False}, [big], F.softmax(big, dim=1))
add("log_softmax large logits", "softmax", {"axis": 1, "log": True}, [big], F.log_softmax(big, dim=1))

# Cross-entropy with ignore_index=255: value and the gradient of the logits.
for shape in ((2, 5, 3, 4), (6, 5)):
    logits = rand(*shape).requires_grad_(True)
    lshape = (shape[0],) + tuple(shape[2:])
    labels = torch.randint(0, shape[1], lshape, generator=gen)
    mask = torch.rand(lshape, generator=gen) < 0.3
    labels[mask] = 255
    loss = F.cross_entropy(logits, labels, ignore_index=255)
    (grad,) = torch.autograd.grad(loss, logits)
    add("cross_entropy %s" % list(shape), "xent", {"ignore": 255}, [logits.detach(), labels.double()], loss.detach(), [grad])

# Pad. torch.nn.functional.pad takes (last_begin, last_end, prev_begin, prev_end, ...); the
# golden stores ONNX's [x1_begin, ..., x1_end, ...].
def onnx_pads(torch_pads, rank):
    b, e = [0] * rank, [0] * rank
    for i in range(len(torch_pads) // 2):
        b[rank - 1 - i], e[rank - 1 - i] = torch_pads[2 * i], torch_pads[2 * i + 1]
    return b + e


x = rand(1, 2, 4, 5)
for tp in ((1, 2, 2, 1), (3, 0, 0, 3), (2, 2, 3, 3)):
    add("pad constant %s" % (tp,), "pad", {"pads": onnx_pads(tp, 4), "mode": "constant", "value": 0.5}, [x], F.pad(x, tp, value=0.5))
    add("pad reflect %s" % (tp,), "pad", {"pads": onnx_pads(tp, 4), "mode": "reflect", "value": 0}, [x], F.pad(x, tp, mode="reflect"))
    add("pad edge %s" % (tp,), "pad", {"pads": onnx_pads(tp, 4), "mode": "edge", "value": 0}, [x], F.pad(x, tp, mode="replicate"))
tp = (-1, 2, 1, -2)  # crops: torch's constant pad accepts negative pads
add("pad constant with crops", "pad", {"pads": onnx_pads(tp, 4), "mode": "constant", "value": -0.25}, [x], F.pad(x, tp, value=-0.25))
x = rand(3, 4)
for pads, mode in (([5, 0, 0, 7], "reflect"), ([1, 2, 3, 0], "edge"), ([2, 1, 0, 2], "reflect")):
    np_pads = [(pads[i], pads[i + 2]) for i in range(2)]
    add("pad numpy %s %s" % (mode, pads), "pad", {"pads": pads, "mode": mode, "value": 0}, [x],
        np.pad(x.numpy(), np_pads, mode="reflect" if mode == "reflect" else "edge"))
for pads, mode in (([-1, 2, 0, 0], "reflect"), ([0, -1, 2, 3], "edge")):
    crop = x.numpy()[max(-pads[0], 0):x.shape[0] - max(-pads[2], 0), max(-pads[1], 0):x.shape[1] - max(-pads[3], 0)]
    np_pads = [(max(pads[i], 0), max(pads[i + 2], 0)) for i in range(2)]
    add("pad crop then %s %s" % (mode, pads), "pad", {"pads": pads, "mode": mode, "value": 0}, [x],
        np.pad(crop, np_pads, mode="reflect" if mode == "reflect" else "edge"))

# Reductions.
x = rand(2, 3, 4, 5)
for axes in ([1], [-1], [2, 3], [0, 2], [1, 2, 3], [0, 1, 2, 3]):
    for keep in (True, False):
        add("sum %s keep=%s" % (axes, keep), "reduce", {"axes": axes, "keep": keep, "mean": False}, [x], torch.sum(x, dim=axes, keepdim=keep))
        add("mean %s keep=%s" % (axes, keep), "reduce", {"axes": axes, "keep": keep, "mean": True}, [x], torch.mean(x, dim=axes, keepdim=keep))

# Slice with ONNX arguments; Python slicing is the reference (same meaning for these values).
x = rand(2, 3, 4, 5)
BIG = 2**62
for starts, ends, axes, steps in (
    ([1], [3], [1], [1]),
    ([-1], [-BIG], [3], [-1]),
    ([3, 0], [0, BIG], [3, 2], [-2, 3]),
    ([10], [-10], [2], [-1]),
    ([1, 1, 1, 1], [2, 3, 4, 5], [0, 1, 2, 3], [1, 1, 2, 3]),
    ([0, -2], [-1, 100], [0, 1], [1, 1]),
):
    idx = [slice(None)] * 4
    for s, e, a, st in zip(starts, ends, axes, steps):
        idx[a] = slice(s, e, st)
    add("slice %s %s %s %s" % (starts, ends, axes, steps), "slice",
        {"starts": starts, "ends": ends, "axes": axes, "steps": steps}, [x], x.numpy()[tuple(idx)])

# Concat and Transpose.
a, b, c = rand(2, 1, 3), rand(2, 2, 3), rand(2, 4, 3)
add("concat axis 1", "concat", {"axis": 1}, [a, b, c], torch.cat([a, b, c], dim=1))
add("concat axis -1", "concat", {"axis": -1}, [b, b], torch.cat([b, b], dim=-1))
x = rand(2, 3, 4, 5)
for perm in ((0, 2, 3, 1), (3, 1, 0, 2)):
    add("transpose %s" % (perm,), "transpose", {"perm": list(perm)}, [x], x.permute(*perm))

# Broadcasting arithmetic.
for sa, sb in (((2, 3, 4, 5), (3, 1, 1)), ((1,), (2, 3)), ((4, 1), (1, 5)), ((3, 1, 5), (2, 1, 4, 1))):
    a, b = rand(*sa, away=True), rand(*sb, away=True)
    for kind, fn in (("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)):
        add("%s %s %s" % (kind, list(sa), list(sb)), "arith", {"kind": kind}, [a, b], fn(a, b))

# L2 normalisation, one row below eps.
x = rand(4, 6)
x[2] = x[2] * 1e-13
for axis in (1, 0):
    add("normalize axis %d" % axis, "l2norm", {"axis": axis, "eps": 1e-12}, [x], F.normalize(x, p=2.0, dim=axis, eps=1e-12))

doc = {
    "generator": "scripts/gen_ops_golden_b.py",
    "command": "/usr/bin/python3 scripts/gen_ops_golden_b.py",
    "seed": SEED,
    "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": np.__version__},
    "cases": cases,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(doc, f, separators=(",", ":"))
    f.write("\n")
print("wrote %d cases to %s (%d bytes)" % (len(cases), os.path.normpath(OUT), os.path.getsize(OUT)))
