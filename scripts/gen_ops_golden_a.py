#!/usr/bin/python3
"""Write ops/testdata/a_golden.json: PyTorch reference values for the part-A ops of ops/
(Conv2D, MaxPool2D, AvgPool2D, AdaptiveAvgPool2D, GlobalAvgPool2D, BatchNorm, MatMul).

Command (from the repository root; Debian's python, which has torch):

    /usr/bin/python3 scripts/gen_ops_golden_a.py

Versions used for the committed file: torch 1.13.0a0 (Debian python3-torch), numpy 1.24.2.
Seed: torch.manual_seed(20240601) before the first case; cases draw in file order.

Inputs are drawn uniform in [-1, 1) as float32 and stored with float32's shortest repr; the
references are computed in float64 from exactly those values and stored with 15 significant
digits, so the Go test can check its float64 path tightly (1e-12) and its float32 path at
float32 precision (1e-5). ONNX semantics that torch lacks are built from torch primitives:
asymmetric pads as an explicit F.pad (zeros for Conv/AveragePool, -inf for MaxPool), and
count_include_pad=0 with asymmetric pads as (window sum)/(window count of real elements).
Some cases also carry "gy" (a random output gradient) and "grads": autograd's gradients of
sum(y * gy) with respect to the named inputs.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240601
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops", "testdata", "a_golden.json")


def rand(*shape):
    return (torch.rand(*shape, dtype=torch.float32) * 2 - 1).double()


def enc_in(t):
    """Inputs: float32 values, shortest repr."""
    a = t.detach().float().numpy().ravel()
    return {"shape": list(t.shape), "data": [float(repr(np.float32(v))) for v in a]}


def enc_out(t):
    a = t.detach().double().numpy().ravel()
    return {"shape": list(t.shape), "data": [float("%.15g" % v) for v in a]}


cases = []
torch.manual_seed(SEED)  # before the first case: every case below draws in file order


def add(name, op, params, inputs, outputs, grad_of=()):
    """grad_of names inputs whose autograd gradient of sum(y*gy) is stored."""
    case = {"name": name, "op": op, "params": params,
            "inputs": {k: enc_in(v) for k, v in inputs.items()},
            "outputs": {k: enc_out(v) for k, v in outputs.items()}}
    if grad_of:
        y = outputs["y"]
        gy = rand(*y.shape)
        y.backward(gy)
        case["inputs"]["gy"] = enc_in(gy)
        case["grads"] = {k: enc_out(inputs[k].grad) for k in grad_of}
    cases.append(case)


# --- Conv2D: ONNX pads [top, left, bottom, right] as an explicit zero F.pad.
def conv(name, x_shape, w_shape, bias, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1, grads=False):
    x, w = rand(*x_shape), rand(*w_shape)
    b = rand(w_shape[0]) if bias else None
    ins = {"x": x, "w": w}
    if bias:
        ins["b"] = b
    for v in ins.values():
        v.requires_grad_(grads)
    t, l, bo, r = pads
    y = F.conv2d(F.pad(x, (l, r, t, bo)), w, b, stride=stride, dilation=dilation, groups=groups)
    add(name, "conv", {"stride": list(stride), "pads": list(pads), "dilation": list(dilation), "groups": groups},
        ins, {"y": y}, tuple(ins) if grads else ())


conv("3x3 pad1 bias", (2, 3, 6, 5), (4, 3, 3, 3), True, pads=(1, 1, 1, 1))
conv("7x7 stride2 pad3 (resnet stem)", (1, 3, 11, 10), (2, 3, 7, 7), False, stride=(2, 2), pads=(3, 3, 3, 3))
conv("stride2 asymmetric pads", (2, 2, 7, 6), (3, 2, 3, 3), True, stride=(2, 2), pads=(0, 1, 2, 0), grads=True)
conv("dilation2", (1, 3, 8, 8), (2, 3, 3, 3), True, pads=(2, 2, 2, 2), dilation=(2, 2))
conv("groups2", (2, 4, 5, 5), (6, 2, 3, 3), True, pads=(1, 1, 1, 1), groups=2, grads=True)
conv("depthwise mult2 stride2", (2, 3, 7, 7), (6, 1, 3, 3), True, stride=(2, 2), pads=(1, 1, 1, 1), groups=3, grads=True)
conv("pointwise", (2, 5, 3, 4), (3, 5, 1, 1), True)


# --- Pooling.
def pool_params(k, s, pads, dil=(1, 1), ceil=False, cip=False):
    return {"kernel": list(k), "stride": list(s), "pads": list(pads), "dilation": list(dil),
            "ceil_mode": ceil, "count_include_pad": cip}


def maxpool(name, shape, k, s=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), ceil=False, x=None, grads=False):
    x = rand(*shape) if x is None else x
    x.requires_grad_(grads)
    t, l, bo, r = pads
    if t == bo and l == r:
        y = F.max_pool2d(x, k, s, (t, l), dil, ceil_mode=ceil)
    else:
        assert not ceil, "asymmetric pads via F.pad only without ceil_mode"
        y = F.max_pool2d(F.pad(x, (l, r, t, bo), value=-math.inf), k, s, 0, dil)
    add(name, "maxpool", pool_params(k, s, pads, dil, ceil), {"x": x}, {"y": y}, ("x",) if grads else ())


def avgpool(name, shape, k, s=(1, 1), pads=(0, 0, 0, 0), ceil=False, cip=False, grads=False):
    x = rand(*shape)
    x.requires_grad_(grads)
    t, l, bo, r = pads
    if t == bo and l == r:
        y = F.avg_pool2d(x, k, s, (t, l), ceil_mode=ceil, count_include_pad=cip)
    else:
        assert not ceil, "asymmetric pads via F.pad only without ceil_mode"
        area = k[0] * k[1]
        total = F.avg_pool2d(F.pad(x, (l, r, t, bo)), k, s, 0) * area
        if cip:
            y = total / area
        else:
            y = total / (F.avg_pool2d(F.pad(torch.ones_like(x), (l, r, t, bo)), k, s, 0) * area)
    add(name, "avgpool", pool_params(k, s, pads, ceil=ceil, cip=cip), {"x": x}, {"y": y}, ("x",) if grads else ())


maxpool("k3 s2 p1 (resnet stem)", (2, 2, 9, 8), (3, 3), (2, 2), (1, 1, 1, 1))
maxpool("ceil", (1, 2, 6, 7), (3, 2), (2, 2), ceil=True)
maxpool("ceil pad drops window", (1, 2, 5, 5), (2, 2), (2, 2), (1, 1, 1, 1), ceil=True)
maxpool("dilation2 pad1", (1, 2, 8, 7), (3, 3), (1, 2), (1, 1, 1, 1), dil=(2, 2))
maxpool("asymmetric pads", (2, 1, 6, 7), (3, 3), (2, 2), (2, 0, 0, 1))
# Ties (small integers) with a gradient: autograd routes each to the first maximum.
maxpool("ties gradient", (1, 2, 6, 6), (3, 3), (2, 2), (1, 1, 1, 1),
        x=torch.randint(0, 3, (1, 2, 6, 6)).double(), grads=True)

avgpool("k3 s2 p1 include pad", (2, 2, 7, 6), (3, 3), (2, 2), (1, 1, 1, 1), cip=True)
avgpool("k3 s2 p1 exclude pad", (2, 2, 7, 6), (3, 3), (2, 2), (1, 1, 1, 1), cip=False)
avgpool("ceil include pad", (1, 2, 6, 7), (3, 3), (2, 2), (1, 1, 1, 1), ceil=True, cip=True, grads=True)
avgpool("ceil exclude pad", (1, 2, 6, 7), (3, 3), (2, 2), (1, 1, 1, 1), ceil=True, cip=False, grads=True)
avgpool("ceil no pad", (1, 2, 5, 8), (2, 3), (2, 2), ceil=True, cip=True)
avgpool("asymmetric pads include", (2, 1, 6, 7), (3, 3), (2, 1), (2, 0, 0, 1), cip=True)
avgpool("asymmetric pads exclude", (2, 1, 6, 7), (3, 3), (2, 1), (2, 0, 0, 1), cip=False)


def adaptive(name, shape, out, grads=False):
    x = rand(*shape)
    x.requires_grad_(grads)
    y = F.adaptive_avg_pool2d(x, out)
    add(name, "adaptive", {"out": list(out)}, {"x": x}, {"y": y}, ("x",) if grads else ())


adaptive("7x5 to 3x2", (2, 2, 7, 5), (3, 2), grads=True)
adaptive("6x6 to pyramid 6", (1, 2, 6, 6), (6, 6))
adaptive("5x5 to 2x3", (1, 3, 5, 5), (2, 3))
adaptive("3x2 up to 5x4", (1, 1, 3, 2), (5, 4))
x = rand(2, 3, 5, 4)
add("global", "global", {}, {"x": x}, {"y": x.mean(dim=(2, 3), keepdim=True)})


# --- BatchNorm: ONNX momentum M means running = running*M + batch*(1-M), torch's is 1-M.
def batchnorm(name, shape, training, momentum=0.9, eps=1e-5, grads=False):
    c = shape[1]
    x, scale, bias = rand(*shape), rand(c), rand(c)
    mean, var = rand(c), rand(c).abs() + 0.5
    ins = {"x": x, "scale": scale, "bias": bias, "mean": mean.clone(), "var": var.clone()}
    for k in ("x", "scale", "bias"):
        ins[k].requires_grad_(grads)
    rm, rv = mean.clone(), var.clone()
    y = F.batch_norm(x, rm, rv, scale, bias, training=training, momentum=1 - momentum, eps=eps)
    add(name, "batchnorm", {"training": training, "momentum": momentum, "eps": eps, "unbiased": True},
        ins, {"y": y, "mean": rm, "var": rv}, ("x", "scale", "bias") if grads else ())


batchnorm("train 4-D", (3, 4, 3, 2), True, grads=True)
batchnorm("train 2-D momentum 0.7", (6, 3), True, momentum=0.7, eps=1e-3)
batchnorm("eval 4-D", (2, 3, 4, 3), False, grads=True)


# --- MatMul (numpy broadcasting).
def matmul(name, a_shape, b_shape, grads=False):
    a, b = rand(*a_shape), rand(*b_shape)
    a.requires_grad_(grads)
    b.requires_grad_(grads)
    add(name, "matmul", {}, {"a": a, "b": b}, {"y": torch.matmul(a, b)}, ("a", "b") if grads else ())


matmul("2-D", (3, 4), (4, 5))
matmul("vector times matrix", (4,), (4, 3))
matmul("batched times matrix (linear layer)", (2, 3, 4), (4, 5), grads=True)
matmul("[s,H] x [N,C,H,W]", (3, 4), (2, 2, 4, 5), grads=True)
matmul("[N,HW,C] x [N,C,HW]", (2, 6, 3), (2, 3, 6))
matmul("both broadcast", (2, 1, 3, 4), (3, 4, 2), grads=True)


def main():
    doc = {
        "generator": "scripts/gen_ops_golden_a.py",
        "command": "/usr/bin/python3 scripts/gen_ops_golden_a.py",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "seed": SEED,
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote %s: %d cases, %d bytes" % (OUT, len(cases), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
