#!/usr/bin/python3
"""The continued-pre-training fixture of train/pretext: a width-reduced torchvision ResNet-18
exported to ONNX the way a user brings a PyTorch checkpoint into ssl4dp
(scripts/export_torchvision.py's recipe), small enough to commit.

    /usr/bin/python3 scripts/gen_pretext_golden.py    # rewrites train/pretext/testdata/

Writes train/pretext/testdata/resnet18_w0.125_torchvision.onnx: torchvision's ResNet (its
__init__ layout, _make_layer and BasicBlock, state_dict names unchanged) with every stage
width multiplied by 1/8 (stem 8, stages 8/16/32/64 channels) and a 10-class fc, seed 0.
BatchNorm scales and shifts are drawn from U(0.5, 1.5) and U(-0.2, 0.2) so that PyTorch's
exporter merges no initializers, and 5 training-mode forward passes on N(0, 1) batches of
4x3x64x64 give the running statistics something to hold, as a trained checkpoint would.
Exported with BatchNorm kept: torch.onnx.export(..., training=TrainingMode.PRESERVE,
do_constant_folding=False, opset_version=13), input "input" [N,3,H,W] (dynamic N, H, W),
output "output" (the fc logits). The fc and num_batches_tracked initializers are what a
loader must skip.

Versions used: Debian python3-torch 1.13, python3-torchvision 0.14, python3-onnx 1.12.
"""
import os

import onnx
import torch
import torchvision

WIDTH = 0.125
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train", "pretext", "testdata",
                   "resnet18_w0.125_torchvision.onnx")


class NarrowResNet(torchvision.models.ResNet):
    """torchvision.models.ResNet.__init__ with every width multiplied by `width`."""

    def __init__(self, width, layers=(2, 2, 2, 2), num_classes=10):
        torch.nn.Module.__init__(self)
        w = lambda c: max(1, round(c * width))
        block = torchvision.models.resnet.BasicBlock
        self._norm_layer = torch.nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = w(64), 1, 1, 64
        self.conv1 = torch.nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(self.inplanes)
        self.relu = torch.nn.ReLU(inplace=True)
        self.maxpool = torch.nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, w(64), layers[0])
        self.layer2 = self._make_layer(block, w(128), layers[1], stride=2)
        self.layer3 = self._make_layer(block, w(256), layers[2], stride=2)
        self.layer4 = self._make_layer(block, w(512), layers[3], stride=2)
        self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = torch.nn.Linear(w(512), num_classes)
        for m in self.modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, torch.nn.BatchNorm2d):
                torch.nn.init.uniform_(m.weight, 0.5, 1.5)
                torch.nn.init.uniform_(m.bias, -0.2, 0.2)


def main():
    torch.manual_seed(0)
    net = NarrowResNet(WIDTH)
    net.train()
    with torch.no_grad():
        for _ in range(5):
            net(torch.randn(4, 3, 64, 64))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    torch.onnx.export(net, torch.randn(1, 3, 64, 64), OUT, opset_version=13, input_names=["input"],
                      output_names=["output"], training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "output": {0: "N"}})
    onnx.checker.check_model(onnx.load(OUT), full_check=True)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes): torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"onnx {onnx.__version__}, seed 0, width {WIDTH}")


if __name__ == "__main__":
    main()
