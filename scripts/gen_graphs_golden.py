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
  heads/                            encoder + segmentation head models written here in PyTorch after
                                    MMSegmentation's heads (module names = graphs' "head." names),
                                    their weights (an ONNX file holding only initializers), and
                                    their logits, bilinearly resized to the input, at every 4th
                                    pixel of a 1x3x97x129 input (manifest.json)

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


class ConvModule(torch.nn.Module):
    """mmcv's ConvModule with BN (conv without bias) and, unless act=False, ReLU."""

    def __init__(self, cin, cout, k, padding=0, dilation=1, groups=1, act=True):
        super().__init__()
        self.conv = torch.nn.Conv2d(cin, cout, k, padding=padding, dilation=dilation, groups=groups, bias=False)
        self.bn = torch.nn.BatchNorm2d(cout)
        self.act = act

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x) if self.act else x


class DSConv(torch.nn.Module):
    """mmcv's DepthwiseSeparableConvModule (both parts with BN and ReLU)."""

    def __init__(self, cin, cout, dilation):
        super().__init__()
        self.depthwise_conv = ConvModule(cin, cin, 3, padding=dilation, dilation=dilation, groups=cin)
        self.pointwise_conv = ConvModule(cin, cout, 1)

    def forward(self, x):
        return self.pointwise_conv(self.depthwise_conv(x))


def up(x, like):
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)


class FCNMoCo(torch.nn.Module):
    """mmseg FCNHead(channels=256, num_convs=2, dilation=6, concat_input=False), no dropout."""

    def __init__(self, cin, clow, ch, k, os_):
        super().__init__()
        self.convs = torch.nn.Sequential(ConvModule(cin, ch, 3, 6, 6), ConvModule(ch, ch, 3, 6, 6))
        self.conv_seg = torch.nn.Conv2d(ch, k, 1)

    def forward(self, x, low):
        return self.conv_seg(self.convs(x))


class PSP(torch.nn.Module):
    """mmseg PSPHead (pool_scales 1, 2, 3, 6)."""

    def __init__(self, cin, clow, ch, k, os_):
        super().__init__()
        self.psp_modules = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(s), ConvModule(cin, ch, 1)) for s in (1, 2, 3, 6))
        self.bottleneck = ConvModule(cin + 4 * ch, ch, 3, padding=1)
        self.conv_seg = torch.nn.Conv2d(ch, k, 1)

    def forward(self, x, low):
        outs = [x] + [up(m(x), x) for m in self.psp_modules]
        return self.conv_seg(self.bottleneck(torch.cat(outs, 1)))


class DeepLabV3Plus(torch.nn.Module):
    """mmseg DepthwiseSeparableASPPHead (dilations 1, 6, 12, 18 at OS16, c1 48 channels)."""

    def __init__(self, cin, clow, ch, k, os_, c1=48):
        super().__init__()
        rates = [r * 16 // os_ for r in (6, 12, 18)]
        self.image_pool = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), ConvModule(cin, ch, 1))
        self.aspp_modules = torch.nn.ModuleList([ConvModule(cin, ch, 1)] + [DSConv(cin, ch, d) for d in rates])
        self.bottleneck = ConvModule(5 * ch, ch, 3, padding=1)
        self.c1_bottleneck = ConvModule(clow, c1, 1)
        self.sep_bottleneck = torch.nn.Sequential(DSConv(ch + c1, ch, 1), DSConv(ch, ch, 1))
        self.conv_seg = torch.nn.Conv2d(ch, k, 1)

    def forward(self, x, low):
        outs = [up(self.image_pool(x), x)] + [m(x) for m in self.aspp_modules]
        y = self.bottleneck(torch.cat(outs, 1))
        c1 = self.c1_bottleneck(low)
        y = self.sep_bottleneck(torch.cat([up(y, c1), c1], 1))
        return self.conv_seg(y)


class Conv(torch.nn.Module):
    """A conv with bias held as .conv, as mmcv's norm-free ConvModule names it."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = torch.nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        return self.conv(x)


class NonLocal2d(torch.nn.Module):
    """mmcv NonLocal2d, embedded_gaussian, reduction 2, use_scale."""

    def __init__(self, cin):
        super().__init__()
        self.inter = max(cin // 2, 1)
        self.g, self.theta, self.phi = Conv(cin, self.inter), Conv(cin, self.inter), Conv(cin, self.inter)
        self.conv_out = ConvModule(self.inter, cin, 1, act=False)

    def forward(self, x):
        n = x.size(0)
        g_x = self.g(x).view(n, self.inter, -1).permute(0, 2, 1)
        theta_x = self.theta(x).view(n, self.inter, -1).permute(0, 2, 1)
        phi_x = self.phi(x).view(n, self.inter, -1)
        w = torch.matmul(theta_x, phi_x) / theta_x.shape[-1] ** 0.5
        y = torch.matmul(w.softmax(dim=-1), g_x).permute(0, 2, 1).contiguous().reshape(n, self.inter, *x.size()[2:])
        return x + self.conv_out(y)


class NLHead(torch.nn.Module):
    """mmseg NLHead: FCNHead(num_convs=2, concat_input=True) with a NonLocal2d between."""

    def __init__(self, cin, clow, ch, k, os_):
        super().__init__()
        self.convs = torch.nn.Sequential(ConvModule(cin, ch, 3, padding=1), ConvModule(ch, ch, 3, padding=1))
        self.nl_block = NonLocal2d(ch)
        self.conv_cat = ConvModule(cin + ch, ch, 3, padding=1)
        self.conv_seg = torch.nn.Conv2d(ch, k, 1)

    def forward(self, x, low):
        y = self.convs[1](self.nl_block(self.convs[0](x)))
        return self.conv_seg(self.conv_cat(torch.cat([x, y], 1)))


HEADS = {"fcn": (FCNMoCo, 256), "psp": (PSP, 512), "deeplabv3plus": (DeepLabV3Plus, 512), "nonlocal": (NLHead, 512)}


class Segmenter(torch.nn.Module):
    """A (narrow) torchvision ResNet with a head; logits resized to the input."""

    def __init__(self, encoder, width, os_, head, classes):
        super().__init__()
        net = make(encoder, width, os_, classes)
        for name in ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]:
            setattr(self, name, getattr(net, name))
        cls, ch = HEADS[head]
        cfeat, clow = self.layer4[-1].conv1.in_channels, self.layer1[-1].conv1.in_channels
        kw = {"c1": scaled(48, width)} if head == "deeplabv3plus" else {}
        self.head = cls(cfeat, clow, scaled(ch, width), classes, os_, **kw)

    def forward(self, x):
        low = self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
        f = self.layer4(self.layer3(self.layer2(low)))
        return f, up(self.head(f, low), x)


def heads(out, seed, width=1 / 64, classes=3):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(seed)
    x = torch.randn(1, 3, 97, 129)
    save(x.numpy(), os.path.join(out, "input.pb"))
    manifest = []
    for head, os_ in [("fcn", 16), ("psp", 16), ("psp", 8), ("deeplabv3plus", 16), ("deeplabv3plus", 8), ("nonlocal", 16)]:
        name = f"resnet18_w{width:g}_os{os_}_{head}"
        net = Segmenter("resnet18", width, os_, head, classes)
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):  # the non-local conv_out's too: γ ≠ 0
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
            net.eval()
            _, logits = net(x)
        inits = [onnx.numpy_helper.from_array(v.numpy(), k) for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")]
        onnx.save(onnx.helper.make_model(onnx.helper.make_graph([], name, [], [], initializer=inits)), os.path.join(out, name + ".weights.onnx"))
        save(logits[:, :, ::4, ::4].numpy(), os.path.join(out, name + ".logits.pb"))  # every 4th pixel: small file
        manifest.append(dict(name=name, encoder="resnet18", width=width, output_stride=os_, head=head, classes=classes,
                             weights=name + ".weights.onnx", tensors={"input": "input.pb", "logits": name + ".logits.pb"}))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


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
    heads(os.path.join(ROOT, "heads"), a.seed)
    print(f"wrote {ROOT}: torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}, seed {a.seed}")


if __name__ == "__main__":
    main()
