#!/usr/bin/python3
"""Golden files for train/optim (SGD) and train/schedule (learning-rate schedules).

Writes, relative to the repository root:
  train/optim/testdata/sgd_golden.json          torch.optim.SGD, several steps, several cases
  train/schedule/testdata/schedules_golden.json learning rate at every step 0..T

Command (from the repository root):   /usr/bin/python3 scripts/gen_train_golden.py
Needs Debian's python3-torch (recorded: torch 1.13.0a0, numpy 1.24.2, Python 3.11). Seed 0.
The Go tests read the JSON only; they never run Python.

SGD cases. The parameters mimic a tiny segmenter: an "encoder" part (conv weight, BatchNorm
weight and bias) and a "head" part (1x1 conv weight and bias). They are split into torch
parameter groups exactly as ssl4dp's optim.New splits them by default:
  - group by name prefix: "head." → LR multiplier 1; everything else → `encoder_lr_mult`;
  - inside each, 1-D tensors (BatchNorm scales/shifts, biases) and names ending in ".bias"
    get weight_decay 0 (timm's param_groups_weight_decay rule); the rest get `weight_decay`.
Each step sets every group's lr to schedule_lr[step] * its multiplier (a changing LR, as a
scheduler would), draws fresh seeded gradients, optionally clips them with
torch.nn.utils.clip_grad_norm_, and calls opt.step() (foreach=False: the reference
_single_tensor_sgd loop). Recorded per step: the gradients given (before clipping), the
total gradient norm clip_grad_norm_ returned, and every parameter after the step; at the end,
the momentum buffers.

Schedule cases use torch's schedulers where torch has them (CosineAnnealingLR, MultiStepLR,
LinearLR, PolynomialLR for final LR 0, ChainedScheduler for warm-up), and the closed form
mmseg/mmcv use where it does not (poly with a final LR: mmcv PolyLrUpdaterHook /
mmengine PolyLR with eta_min: lr = (base - final) * (1 - t/T)^p + final).
"""
import json
import math
import os
import sys

import numpy as np
import torch

SEED = 0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PARAM_SHAPES = [
    ("conv1.weight", (4, 3, 3, 3)),
    ("bn1.weight", (4,)),
    ("bn1.bias", (4,)),
    ("head.conv_seg.weight", (2, 4, 1, 1)),
    ("head.conv_seg.bias", (2,)),
]


def no_decay(name, shape):
    return len(shape) <= 1 or name.endswith(".bias")


def floats(t):
    """A float32 tensor as a flat list of Python floats (exact: float32 ⊂ float64)."""
    return [float(v) for v in t.detach().reshape(-1).numpy().astype(np.float32)]


def sgd_case(name, nesterov, max_norm, steps=5, encoder_lr_mult=0.1, momentum=0.9, wd=5e-4):
    gen = torch.Generator().manual_seed(SEED)
    params = {n: torch.nn.Parameter(torch.randn(s, generator=gen)) for n, s in PARAM_SHAPES}
    initial = {n: floats(p) for n, p in params.items()}

    groups, mults = [], []
    for head in (False, True):
        for nd in (False, True):
            names = [n for n, s in PARAM_SHAPES if n.startswith("head.") == head and no_decay(n, s) == nd]
            if names:
                groups.append({"params": [params[n] for n in names], "weight_decay": 0.0 if nd else wd})
                mults.append(1.0 if head else encoder_lr_mult)
    opt = torch.optim.SGD(groups, lr=0.1, momentum=momentum, weight_decay=wd, nesterov=nesterov, foreach=False)

    base, final = 0.1, 0.01
    lrs = [(base - final) * (1 - t / steps) ** 0.9 + final for t in range(steps)]
    record = []
    for step in range(steps):
        grads = {n: torch.randn(s, generator=gen) * 3.0 for n, s in PARAM_SHAPES}
        for n, p in params.items():
            p.grad = grads[n].clone()
        norm = None
        if max_norm > 0:
            norm = float(torch.nn.utils.clip_grad_norm_([params[n] for n, _ in PARAM_SHAPES], max_norm))
        for g, m in zip(opt.param_groups, mults):
            g["lr"] = lrs[step] * m
        opt.step()
        record.append({
            "lr": lrs[step],
            "grads": {n: floats(g) for n, g in grads.items()},
            "grad_norm": norm,
            "params_after": {n: floats(p) for n, p in params.items()},
        })
    buffers = {}
    for n, p in params.items():
        buffers[n] = floats(opt.state[p]["momentum_buffer"])
    return {
        "name": name,
        "momentum": momentum,
        "weight_decay": wd,
        "nesterov": nesterov,
        "max_grad_norm": max_norm,
        "encoder_lr_mult": encoder_lr_mult,
        "head_prefix": "head.",
        "shapes": {n: list(s) for n, s in PARAM_SHAPES},
        "initial": initial,
        "steps": record,
        "momentum_buffers": buffers,
    }


def torch_lrs(make, total, base):
    """lr at t = 0..total of a torch scheduler built by make(optimizer)."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(total):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def schedule_cases():
    T, base, final = 20, 0.01, 1e-4
    ms = [round(0.7 * T), round(0.9 * T)]
    S = torch.optim.lr_scheduler
    cases = [
        {"name": "poly p=0.9 to final (closed form, mmcv PolyLrUpdaterHook with min_lr)",
         "kind": "poly", "power": 0.9, "final_lr": final,
         "lrs": [(base - final) * (1 - t / T) ** 0.9 + final for t in range(T + 1)]},
        {"name": "poly p=0.9 to 0 (torch PolynomialLR)", "kind": "poly", "power": 0.9, "final_lr": 0.0,
         "lrs": torch_lrs(lambda o: S.PolynomialLR(o, total_iters=T, power=0.9), T, base)},
        {"name": "cosine (torch CosineAnnealingLR)", "kind": "cosine", "final_lr": final,
         "lrs": torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max=T, eta_min=final), T, base)},
        {"name": "step at 0.7, 0.9 (torch MultiStepLR)", "kind": "step", "milestones": [0.7, 0.9], "gamma": 0.1,
         "lrs": torch_lrs(lambda o: S.MultiStepLR(o, milestones=ms, gamma=0.1), T, base)},
        {"name": "linear to final (torch LinearLR)", "kind": "linear", "final_lr": final,
         "lrs": torch_lrs(lambda o: S.LinearLR(o, start_factor=1.0, end_factor=final / base, total_iters=T), T, base)},
        {"name": "warm-up 5 from 0.1 + step (torch ChainedScheduler(LinearLR, MultiStepLR))",
         "kind": "step", "milestones": [0.7, 0.9], "gamma": 0.1, "warmup": 5, "warmup_start": 0.1,
         "lrs": torch_lrs(lambda o: S.ChainedScheduler([
             S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5),
             S.MultiStepLR(o, milestones=ms, gamma=0.1)]), T, base)},
        {"name": "warm-up 4 from 0.25 + poly to 0 (torch ChainedScheduler(LinearLR, PolynomialLR))",
         "kind": "poly", "power": 0.9, "final_lr": 0.0, "warmup": 4, "warmup_start": 0.25,
         "lrs": torch_lrs(lambda o: S.ChainedScheduler([
             S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4),
             S.PolynomialLR(o, total_iters=T, power=0.9)]), T, base)},
    ]
    for c in cases:
        c["base_lr"] = base
        c["total"] = T
    return cases


def write(rel, obj):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    print("wrote", rel, file=sys.stderr)


def main():
    torch.manual_seed(SEED)
    meta = {
        "generator": "scripts/gen_train_golden.py",
        "command": "/usr/bin/python3 scripts/gen_train_golden.py",
        "seed": SEED,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    write("train/optim/testdata/sgd_golden.json", {"meta": meta, "cases": [
        sgd_case("momentum", nesterov=False, max_norm=0.0),
        sgd_case("nesterov", nesterov=True, max_norm=0.0),
        sgd_case("momentum+clip", nesterov=False, max_norm=2.0),
        sgd_case("nesterov+clip", nesterov=True, max_norm=2.0),
    ]})
    write("train/schedule/testdata/schedules_golden.json", {"meta": meta, "cases": schedule_cases()})
    assert not any(math.isnan(v) for c in schedule_cases() for v in c["lrs"])


if __name__ == "__main__":
    main()
