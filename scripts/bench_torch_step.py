#!/usr/bin/python3
"""Time one training step of ResNet-18 (output stride 16) + MoCo's FCN head in PyTorch, the
network onnx/importer's BenchmarkTrainStep trains in Go, on the same machine.

The network is graphs.Spec{Encoder: ResNet18, OutputStride: 16, Head: HeadFCN, Classes: 21}:
torchvision's resnet18 with layer4 dilated as graphs/ does it (stride 1; the first block
keeps dilation 1, later blocks dilate their first 3x3 by 2, as MMSegmentation's BasicBlock),
then two 3x3 conv (256 channels, dilation 6, no bias) + BN + ReLU and a 1x1 conv to 21
classes with bias, logits resized bilinearly (align_corners=False) to the input. One step:
forward in training mode (BatchNorm batch statistics), cross-entropy with ignore_index=255,
backward, SGD with momentum 0.9 (lr 0.01, no weight decay), zero_grad. Batch 8, 128x128.

Command: /usr/bin/python3 scripts/bench_torch_step.py [--steps 10] [--warmup 2] [--threads 2]
         /usr/bin/python3 scripts/bench_torch_step.py --export OUT.onnx   (the network, for the
         Go test that checks it is graphs' network: same names, shapes and outputs)
Prints one JSON object: seconds per step (median and mean of the timed steps), the peak
resident set size of the process (ru_maxrss), the parameter count, versions and settings.
Needs Debian's python3-torch (recorded: torch 1.13.0a0, torchvision 0.14.1a0). Seed 0.
"""
import argparse
import json
import platform
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class ConvModule(nn.Module):
    """mmcv's ConvModule: conv (no bias) + BN + ReLU, with its attribute names."""

    def __init__(self, cin, cout, dilation):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 1, dilation, dilation, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.activate = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.activate(self.bn(self.conv(x)))


class FCNHead(nn.Module):
    def __init__(self, cin, classes):
        super().__init__()
        self.convs = nn.Sequential(ConvModule(cin, 256, 6), ConvModule(256, 256, 6))
        self.conv_seg = nn.Conv2d(256, classes, 1)

    def forward(self, x):
        return self.conv_seg(self.convs(x))


class Segmenter(nn.Module):
    """Attribute names follow graphs/ (torchvision's for the encoder, mmseg's for the head),
    so the state_dict keys equal graphs' initializer names."""

    def __init__(self, classes=21):
        super().__init__()
        r = torchvision.models.resnet18()
        # Output stride 16 (graphs/resnet.go): layer4 keeps its first block at dilation 1
        # with stride 1; the second block's conv1 is dilated by 2.
        r.layer4[0].conv1.stride = (1, 1)
        r.layer4[0].downsample[0].stride = (1, 1)
        r.layer4[1].conv1.dilation, r.layer4[1].conv1.padding = (2, 2), (2, 2)
        for name in ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]:
            setattr(self, name, getattr(r, name))
        self.head = FCNHead(512, classes)

    def forward(self, x):
        f = self.layer4(self.layer3(self.layer2(self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x))))))))
        return F.interpolate(self.head(f), size=x.shape[-2:], mode="bilinear", align_corners=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--export", help="write the network as ONNX (BatchNorm kept, opset 13) and exit")
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    net = Segmenter().train()
    if a.export:
        # onnx/importer's TestBenchNetworkMatchesGraphs loads graphs' weights into this file
        # by name and compares the two networks' outputs in onnxruntime.
        torch.onnx.export(net, torch.randn(1, 3, 64, 64), a.export, opset_version=13, input_names=["input"],
                          output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False, dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}})
        return
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, 21, (a.batch, a.size, a.size))
    y[torch.rand(a.batch, a.size, a.size) < 0.1] = 255
    times = []
    for i in range(a.warmup + a.steps):
        start = time.perf_counter()
        loss = F.cross_entropy(net(x), y, ignore_index=255)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if i >= a.warmup:
            times.append(time.perf_counter() - start)
    print(json.dumps({
        "median_s": statistics.median(times), "mean_s": statistics.mean(times), "steps": a.steps,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "params": sum(p.numel() for p in net.parameters()),
        "threads": a.threads, "batch": a.batch, "size": a.size, "loss": loss.item(),
        "torch": torch.__version__, "torchvision": torchvision.__version__, "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
