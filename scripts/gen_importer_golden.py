#!/usr/bin/python3
"""Fixtures and golden files for onnx/importer, exported by PyTorch with BatchNorm kept.

Writes, relative to the repository root (all under onnx/importer/testdata/):
  resnet_small.onnx   torchvision-style ResNet: stem, BasicBlock, BasicBlock with
                      downsample, Bottleneck with downsample, avgpool, fc (opset 13)
  fcn_small.onnx      small backbone + FCN-like head: dilated 3x3 conv + BN + ReLU, 1x1
                      classifier, bilinear upsampling to the input size computed from
                      Shape (align_corners False → "output", True → "aux") (opset 13)
  pools_small.onnx    pooling variants (MaxPool/AvgPool ceil_mode, count_include_pad both
                      ways, adaptive pooling to 1 = GlobalAveragePool), depthwise conv, reflect Pad,
                      Concat, Sigmoid, Softmax, Flatten, Linear (opset 11)
  resnet_small_golden.pb, fcn_small_golden.pb
                      one training step's reference in float64: the input, the loss
                      target, the loss, the gradient of every parameter and the running
                      statistics after the step (PyTorch momentum 0.1, unbiased variance)

Command (from the repository root):   /usr/bin/python3 scripts/gen_importer_golden.py
Needs Debian's python3-torch / python3-torchvision / python3-onnx (recorded: torch 1.13.0a0,
torchvision 0.14.1a0, onnx 1.12.0). Seed 0. The Go tests read these files only; they never
run Python.

Export recipe (the one docs/import.md documents):
  torch.onnx.export(model, x, path, training=torch.onnx.TrainingMode.PRESERVE,
                    do_constant_folding=False, opset_version=13)
BatchNorm weights, biases and running statistics are drawn at random so that no two
initializers hold equal values (PyTorch's exporter would merge them into one tied tensor).

Golden files are ONNX ModelProtos whose graph holds only initializers (no nodes), so Go
reads them with the same protobuf types as models: "input" (float32), "target" (float64:
the projection R for resnet_small's loss sum(output * R); for fcn_small the labels, as
float64 class indices with 255 = ignore, and "target_aux", R for the aux output),
"loss" (float64 scalar), "grad/<param>" and "running/<buffer>" (float64).

The reference starts from the values stored in the exported ONNX file (tracing a model in
training mode updates its running statistics, so the file, not the module, is the start).
Losses: resnet_small: sum(output * R); fcn_small: cross_entropy(output, labels,
ignore_index=255) (mean over non-ignored pixels) + sum(aux * R_aux).
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper

SEED = 0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "onnx", "importer", "testdata")


def randomise_bn(model, gen):
    """Distinct BatchNorm values, so the exporter merges nothing and eval is non-trivial."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.3, 0.3, generator=gen)
                m.running_mean.uniform_(-0.2, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)


class SmallResNet(nn.Module):
    """torchvision's blocks and naming, tiny widths: 3→8 stem, BasicBlock(8), BasicBlock(8→16,
    stride 2, downsample), Bottleneck(16→32, stride 2, downsample), pool, fc(10)."""

    def __init__(self):
        super().__init__()
        R = torchvision.models.resnet
        self.conv1 = nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(R.BasicBlock(8, 8))
        self.layer2 = nn.Sequential(R.BasicBlock(8, 16, 2, nn.Sequential(R.conv1x1(8, 16, 2), nn.BatchNorm2d(16))))
        self.layer3 = nn.Sequential(R.Bottleneck(16, 8, 2, nn.Sequential(R.conv1x1(16, 32, 2), nn.BatchNorm2d(32))))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def conv_bn_relu(cin, cout, stride=1, dilation=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, dilation, dilation, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class SmallFCN(nn.Module):
    """Backbone to 1/4 scale, FCN-like head (dilated 3x3 conv + BN + ReLU, 1x1 classifier),
    logits resized bilinearly to the input size taken from the input's shape."""

    def __init__(self, classes=5):
        super().__init__()
        self.backbone = nn.Sequential(conv_bn_relu(3, 8, 2), conv_bn_relu(8, 16, 2))
        self.head = nn.Sequential(conv_bn_relu(16, 16, dilation=2), nn.Conv2d(16, classes, 1))

    def forward(self, x):
        y = self.head(self.backbone(x))
        size = x.shape[-2:]
        return (F.interpolate(y, size=size, mode="bilinear", align_corners=False),
                F.interpolate(y, size=size, mode="bilinear", align_corners=True))


class Pools(nn.Module):
    """Pooling variants, depthwise-separable conv, reflect padding, concat, activations."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn_relu(3, 8)
        self.dw = nn.Sequential(nn.Conv2d(8, 8, 3, 1, 0, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                nn.Conv2d(8, 8, 1))
        self.maxpool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.avg_excl = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
        self.avg_incl = nn.AvgPool2d(3, 2, 1, count_include_pad=True)
        self.fc = nn.Linear(8 + 16 * 4, 6)

    def forward(self, x):
        x = self.stem(x)
        x = self.dw(F.pad(x, (1, 2, 2, 1), mode="reflect"))[:, :, :-1, 1:]
        a = self.maxpool(x)  # ceil mode: 16x12 → 9x7
        b = self.avg_excl(x)  # 9x7
        c = self.avg_incl(x)  # floor mode: 8x6
        m = torch.sigmoid(a) * torch.softmax(b, dim=1)
        p1 = F.adaptive_avg_pool2d(m, 1)  # → GlobalAveragePool
        p2 = F.avg_pool2d(torch.cat([c, 2 * c], 1), (4, 3))  # adaptive 2x2 on 8x6 (the exporter
        # cannot see static sizes here, so it would refuse adaptive_avg_pool2d)
        return self.fc(torch.cat([torch.flatten(p1, 1), torch.flatten(p2, 1)], 1))


def export(model, x, name, opset, outputs, dynamic):
    path = os.path.join(OUT, name + ".onnx")
    axes = None
    if dynamic:  # every size from Shape at run time, as torchvision's segmentation models
        axes = {"input": {0: "N", 2: "H", 3: "W"}}
        for o in outputs:
            axes[o] = {0: "N"}
    model.train()
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=outputs,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, dynamic_axes=axes)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    return path, m


def load_initializers(model, m):
    """Set the module's parameters and buffers to the exported file's initializers."""
    state = model.state_dict()
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    with torch.no_grad():
        for k, v in state.items():
            if k.endswith("num_batches_tracked"):
                continue
            if k not in inits:
                raise SystemExit(f"state_dict key {k} is not an initializer of the export")
            v.copy_(torch.from_numpy(inits[k].copy()))


def tensor(name, a):
    return numpy_helper.from_array(np.ascontiguousarray(a), name)


def golden(model, m, x, loss_fn, targets, name):
    """One float64 training step from the file's values; write the reference."""
    model = model.double()
    load_initializers(model, m)
    model.train()
    model.zero_grad()
    loss = loss_fn(model(x.double()))
    loss.backward()
    ts = [tensor("input", x.numpy()), tensor("loss", np.array(loss.item(), dtype=np.float64))]
    ts += [tensor(k, v) for k, v in targets.items()]
    for k, p in model.named_parameters():
        ts.append(tensor("grad/" + k, p.grad.numpy()))
    for k, b in model.named_buffers():
        if not k.endswith("num_batches_tracked"):
            ts.append(tensor("running/" + k, b.numpy()))
    g = onnx.helper.make_graph([], name + "_golden", [], [], initializer=ts)
    gm = onnx.helper.make_model(g, producer_name="scripts/gen_importer_golden.py",
                                opset_imports=[onnx.helper.make_opsetid("", 13)])
    gm.ir_version = 8
    onnx.save(gm, os.path.join(OUT, name + "_golden.pb"))
    print(f"{name}: loss {loss.item():.6f}")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)

    net = SmallResNet()
    randomise_bn(net, gen)
    x = torch.randn(2, 3, 32, 32, generator=gen)
    _, m = export(net, x, "resnet_small", 13, ["output"], dynamic=True)
    r = torch.randn(2, 10, generator=gen, dtype=torch.float64)
    golden(net, m, x, lambda out: (out * r).sum(), {"target": r.numpy()}, "resnet_small")

    fcn = SmallFCN()
    randomise_bn(fcn, gen)
    x = torch.randn(2, 3, 20, 28, generator=gen)
    _, m = export(fcn, x, "fcn_small", 13, ["output", "aux"], dynamic=True)
    labels = torch.randint(0, 5, (2, 20, 28), generator=gen)
    labels[torch.rand(2, 20, 28, generator=gen) < 0.2] = 255
    r_aux = torch.randn(2, 5, 20, 28, generator=gen, dtype=torch.float64)
    golden(fcn, m, x, lambda outs: F.cross_entropy(outs[0], labels, ignore_index=255) + (outs[1] * r_aux).sum(),
           {"target": labels.double().numpy(), "target_aux": r_aux.numpy()}, "fcn_small")

    pools = Pools()
    randomise_bn(pools, gen)
    x = torch.randn(2, 3, 16, 12, generator=gen)
    export(pools, x, "pools_small", 11, ["output"], dynamic=False)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}, seed {SEED}")


if __name__ == "__main__":
    main()
