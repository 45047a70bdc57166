#!/usr/bin/python3
"""Golden files for graphs/ tests, made with torchvision (Debian's python3-torch 1.13,
python3-torchvision 0.14, python3-onnx 1.12; seed 0 unless --seed).

    /usr/bin/python3 scripts/gen_graphs_golden.py                       # rewrites graphs/testdata/
    /usr/bin/python3 scripts/gen_graphs_golden.py --parity DIR --width 1  # full-width parity set in DIR

Default mode writes into graphs/testdata/:
  torchvision_resnet{18,34,50}.txt  state_dict keys and shapes (minus num_batches_tracked)
                                    of torchvision's resnet18/34/50(num_classes=1000)
  parity/                           small-width models + inputs + outputs (manifest.json)
  adaptive_pool/                    inputs and F.adaptive_avg_pool2d outputs (manifest.json)

Parity models are torchvision's ResNet (its __init__, _make_layer and blocks) with every
stage width multiplied by --width (1/32 for ResNet-18, 1/64 for ResNet-50 by default, to
keep the committed files to a few hundred KB), random weights and BatchNorm statistics,
exported to ONNX in eval mode with BatchNorm kept (TrainingMode.PRESERVE,
do_constant_folding=False) so that every initializer keeps its state_dict name. The dilated
models use replace_stride_with_dilation; a dilated ResNet-18 uses MMSegmentation's
BasicBlock (conv1 dilated, conv2 not), which torchvision's BasicBlock refuses.
Each model's outputs are layer4's map ("features") and the fc logits ("class_logits") on a
seeded 2x3x45x61 input, shared by all models. Tensors are ONNX TensorProto files (.pb).
"""
import argparse
import json
import math
import os
import types

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import resnet as R

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "graphs", "testdata"))


def scaled(n, width):
    """graphs.scaled: round half away from zero, at least 1 (Python's round() is banker's)."""
    return max(1, int(math.floor(n * width + 0.5)))


class NarrowResNet(R.ResNet):
    """torchvision's ResNet with every stage width (the stem's too) multiplied by width.
    Only the widths change: __init__, _make_layer and the blocks are torchvision's."""

    def __init__(self, block, layers, width, **kw):
        self.width, self.first = width, True
        super().__init__(block, layers, **kw)
        c = lambda n: scaled(n, width)
        self.conv1 = torch.nn.Conv2d(3, c(64), kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(c(64))
        self.fc = torch.nn.Linear(c(512) * block.expansion, kw.get("num_classes", 1000))

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if self.first:  # the stem's width, which torchvision fixes at 64
            self.inplanes, self.first = scaled(64, self.width), False
        return super()._make_layer(block, scaled(planes, self.width), blocks, stride, dilate)


class MMSegBasicBlock(R.BasicBlock):
    """MMSegmentation's BasicBlock: conv1 has the dilation (padding = dilation), conv2 not."""

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1, norm_layer=None):
        super().__init__(inplanes, planes, stride, downsample, groups, base_width, 1, norm_layer)
        self.conv1 = R.conv3x3(inplanes, planes, stride, dilation=dilation)


def forward_both(self, x):
    x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
    f = self.layer4(self.layer3(self.layer2(self.layer1(x))))
    return f, self.fc(torch.flatten(self.avgpool(f), 1))


DILATE = {32: [False, False, False], 16: [False, False, True], 8: [False, True, True]}


def make(encoder, width, os_, classes):
    block = {"resnet18": R.BasicBlock, "resnet34": R.BasicBlock, "resnet50": R.Bottleneck}[encoder]
    if block is R.BasicBlock and os_ != 32:
        block = MMSegBasicBlock
    layers = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3], "resnet50": [3, 4, 6, 3]}[encoder]
    kw = dict(num_classes=classes, replace_stride_with_dilation=DILATE[os_])
    if width == 1:
        net = R.ResNet(block, layers, **kw)
    else:
        net = NarrowResNet(block, layers, width, **kw)
    # Distinct random values everywhere, so the exporter merges no initializers and the
    # BatchNorm statistics are exercised.
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    net.forward = types.MethodType(forward_both, net)
    return net.eval()


def save(arr, path):
    with open(path, "wb") as f:
        f.write(onnx.numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32)).SerializeToString())


def parity(out, cases, seed):
    os.makedirs(out, exist_ok=True)
    manifest = []
    torch.manual_seed(seed)
    x = torch.randn(2, 3, 45, 61)
    save(x.numpy(), os.path.join(out, "input.pb"))
    for encoder, width, os_ in cases:
        name = f"{encoder}_w{width:g}_os{os_}"
        net = make(encoder, width, os_, 10)
        with torch.no_grad():
            feat, logits = net(x)
        torch.onnx.export(net, x, os.path.join(out, name + ".onnx"), opset_version=13,
                          input_names=["input"], output_names=["features", "class_logits"],
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                          dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}})
        files = {"input": "input.pb", "features": name + ".features.pb", "class_logits": name + ".class_logits.pb"}
        for key, arr in [("features", feat), ("class_logits", logits)]:
            save(arr.numpy(), os.path.join(out, files[key]))
        manifest.append(dict(name=name, encoder=encoder, width=width, output_stride=os_, classes=10,
                             onnx=name + ".onnx", tensors=files))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def adaptive(out, seed):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed)
    manifest = []
    for shape in [(2, 3, 13, 19), (1, 2, 4, 7), (1, 1, 1, 1)]:
        x = torch.randn(*shape)
        base = "x_" + "x".join(map(str, shape))
        save(x.numpy(), os.path.join(out, base + ".pb"))
        for bins in [1, 2, 3, 6]:
            y = F.adaptive_avg_pool2d(x, bins)
            name = f"{base}_bins{bins}.pb"
            save(y.numpy(), os.path.join(out, name))
            manifest.append(dict(input=base + ".pb", bins=bins, output=name))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def names(out):
    os.makedirs(out, exist_ok=True)
    for encoder in ["resnet18", "resnet34", "resnet50"]:
        sd = getattr(torchvision.models, encoder)(num_classes=1000).state_dict()
        with open(os.path.join(out, f"torchvision_{encoder}.txt"), "w") as f:
            f.write(f"# torchvision {torchvision.__version__} {encoder}().state_dict() minus num_batches_tracked: name dims\n")
            for k, v in sd.items():
                if not k.endswith("num_batches_tracked"):
                    f.write(f"{k} {','.join(map(str, v.shape))}\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--parity", metavar="DIR", help="only write a parity set into DIR")
    p.add_argument("--width", type=float, default=None, help="parity width (default 1/32 for resnet18, 1/64 for resnet50)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    w18, w50 = (a.width, a.width) if a.width else (1 / 32, 1 / 64)
    cases = [("resnet18", w18, 32), ("resnet18", w18, 8), ("resnet50", w50, 32), ("resnet50", w50, 16), ("resnet50", w50, 8)]
    if a.parity:
        if a.width == 1:  # full width: one plain and one dilated model of each block type
            cases = [("resnet18", 1, 32), ("resnet50", 1, 32), ("resnet50", 1, 8)]
        parity(a.parity, cases, a.seed)
        print(f"wrote {a.parity}: torch {torch.__version__}, torchvision {torchvision.__version__}, seed {a.seed}")
        return
    names(ROOT)
    parity(os.path.join(ROOT, "parity"), cases, a.seed)
    adaptive(os.path.join(ROOT, "adaptive_pool"), a.seed)
    print(f"wrote {ROOT}: torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}, seed {a.seed}")


if __name__ == "__main__":
    main()
