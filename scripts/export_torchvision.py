#!/usr/bin/python3
"""Export a randomly initialised torchvision model to ONNX with BatchNorm kept trainable.

This is the recipe a user follows to bring a PyTorch checkpoint into ssl4dp:

    torch.onnx.export(model, x, path, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, opset_version=13)

PRESERVE keeps BatchNormalization nodes (the default eval export folds them into the
convolutions, leaving nothing to fine-tune); do_constant_folding=False keeps every
initializer under its state_dict name. Load a real checkpoint first with
model.load_state_dict(torch.load(...)) — this script only makes random-init models, since no
weights can be downloaded here.

Usage: scripts/export_torchvision.py MODEL OUT.onnx [--size 224] [--seed 0] [--opset 13] [--num-classes N]
MODEL: tiny | resnet18 | resnet34 | resnet50 | fcn_resnet50 | deeplabv3_resnet50 | resnet18_encoder | resnet50_encoder
  *_encoder drops avgpool+fc and outputs the stage-4 feature map (what `train --init` takes).
Needs Debian's python3-torch (1.13) and python3-torchvision (0.14).
"""
import argparse

import torch
import torchvision


class Encoder(torch.nn.Module):
    """A torchvision ResNet without avgpool and fc; state_dict keys stay torchvision's."""

    def __init__(self, net):
        super().__init__()
        for name in ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]:
            setattr(self, name, getattr(net, name))

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class Tiny(torch.nn.Module):
    """A few-kilobyte ResNet-shaped net (stem, one torchvision BasicBlock, pool, fc) for
    committed test fixtures: same op types and naming scheme as a torchvision export."""

    def __init__(self, num_classes):
        super().__init__()
        R = torchvision.models.resnet
        self.conv1 = torch.nn.Conv2d(3, 8, 3, 2, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.relu = torch.nn.ReLU(inplace=True)
        self.maxpool = torch.nn.MaxPool2d(3, 2, 1)
        ds = torch.nn.Sequential(R.conv1x1(8, 16, 2), torch.nn.BatchNorm2d(16))
        self.layer1 = torch.nn.Sequential(R.BasicBlock(8, 16, 2, ds))
        self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(16, num_classes)
        for m in self.modules():  # distinct values, so the exporter merges no initializers
            if isinstance(m, torch.nn.BatchNorm2d):
                torch.nn.init.uniform_(m.weight, 0.5, 1.5)
                torch.nn.init.uniform_(m.bias, -0.2, 0.2)

    def forward(self, x):
        x = self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build(name, num_classes):
    m = torchvision.models
    if name == "tiny":
        return Tiny(num_classes)
    if name.endswith("_encoder"):
        return Encoder(getattr(m, name[: -len("_encoder")])())
    if name in ("fcn_resnet50", "deeplabv3_resnet50"):
        return getattr(m.segmentation, name)(weights=None, weights_backbone=None, num_classes=num_classes, aux_loss=False)
    return getattr(m, name)(num_classes=num_classes)


class OutOnly(torch.nn.Module):
    """Segmentation models return a dict; ONNX wants tensors."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)["out"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--opset", type=int, default=13)
    p.add_argument("--num-classes", type=int, default=None)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    nc = a.num_classes or (21 if a.model.startswith(("fcn", "deeplab")) else 10 if a.model == "tiny" else 1000)
    net = build(a.model, nc)
    if a.model.startswith(("fcn", "deeplab")):
        net = OutOnly(net)
        # Keep initializer names identical to the torchvision state_dict (no "net." prefix).
    net.train()
    # Batch 2: traced in training mode, BatchNorm needs more than one value per channel
    # (DeepLabv3's image-pooling branch normalises a 1x1 map).
    x = torch.randn(2, 3, a.size, a.size)
    torch.onnx.export(net, x, a.out, opset_version=a.opset, input_names=["input"], output_names=["output"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "output": {0: "N"}})
    print(f"wrote {a.out}: {a.model}, torch {torch.__version__}, torchvision {torchvision.__version__}, seed {a.seed}, opset {a.opset}")


if __name__ == "__main__":
    main()
