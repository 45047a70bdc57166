#!/usr/bin/python3
"""Export torchvision's modern classification families to ONNX, full size or as small fixtures.

Made with Debian's python3-torch 1.13.1 and python3-torchvision 0.14.1, seed 0. The committed
fixtures under onnx/importer/testdata/families/ come from

    scripts/export_families.py --small onnx/importer/testdata/families

and the full-size models the long tests use (SSL4DP_LONG=1) from

    scripts/export_families.py DIR            # convnext_tiny.onnx, efficientnet_b0.onnx, …

Every model is exported the way docs/import.md tells a user to (the recipe that keeps a
network trainable): model.train(), TrainingMode.PRESERVE (BatchNorm nodes stay),
do_constant_folding=False (every initializer keeps its state_dict key), input "input",
output "output" (the logits), dynamic batch and size. Stochastic depth is set to 0 (its
Bernoulli mask has no ONNX export in training mode), and dropout to 0 in the small fixtures.

Random initialisation only (no weights can be downloaded here). Fresh torchvision modules
hold many equal tensors (every BatchNorm/LayerNorm γ is ones, every β and running mean
zeros, ConvNeXt's layer scales 1e-6, ViT's class token zeros), which PyTorch's exporter
merges into one initializer; `perturb` gives each a distinct value first (a trained
checkpoint needs none of this), so each stays a parameter of its own.

Opsets: convnext and efficientnet 13 (LayerNorm decomposed into ReduceMean/Sub/Pow/Sqrt/Div),
mobilenet_v3 and regnet 14, vit 17 (LayerNormalization as one node).
"""
import argparse
import os

import torch
import torchvision
from torchvision.models import convnext, efficientnet, mobilenetv3, regnet, vision_transformer

OPSET = {"convnext": 13, "efficientnet": 13, "mobilenet_v3": 14, "regnet": 14, "vit": 17}
FULL = {"convnext": "convnext_tiny", "efficientnet": "efficientnet_b0", "mobilenet_v3": "mobilenet_v3_large",
        "regnet": "regnet_y_400mf", "vit": "vit_b_16"}


def small(family):
    """Reduced depth and width through torchvision's own constructors: same modules, same
    state_dict key scheme, same op types as the full-size model."""
    if family == "convnext":
        C = convnext.CNBlockConfig
        return convnext.ConvNeXt([C(8, 16, 1), C(16, None, 1)], stochastic_depth_prob=0.0, num_classes=10)
    if family == "efficientnet":
        M = efficientnet.MBConvConfig
        cfg = [M(1, 3, 1, 8, 8, 1), M(4, 3, 2, 8, 16, 1), M(4, 5, 2, 16, 16, 1)]
        return efficientnet.EfficientNet(cfg, dropout=0.0, stochastic_depth_prob=0.0, num_classes=10, last_channel=32)
    if family == "mobilenet_v3":
        R = mobilenetv3.InvertedResidualConfig
        cfg = [R(8, 3, 8, 8, True, "RE", 2, 1, 1.0), R(8, 3, 32, 16, False, "HS", 2, 1, 1.0),
               R(16, 5, 48, 16, True, "HS", 2, 1, 1.0)]
        return mobilenetv3.MobileNetV3(cfg, last_channel=32, num_classes=10, dropout=0.0)
    if family == "regnet":
        p = regnet.BlockParams.from_init_params(depth=2, w_0=8, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25)
        return regnet.RegNet(p, num_classes=10, stem_width=8)
    if family == "vit":
        return vision_transformer.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                                    hidden_dim=16, mlp_dim=32, num_classes=10)
    raise SystemExit(f"unknown family {family}")


def no_stochastic_depth(net):
    """Stochastic depth (ConvNeXt, EfficientNet) draws a Bernoulli mask in training mode, which
    ONNX cannot express: p = 0 makes it the identity (ssl4dp trains without it)."""
    for m in net.modules():
        if isinstance(m, torchvision.ops.StochasticDepth):
            m.p = 0.0


def perturb(net, g):
    """Distinct values for tensors a fresh init leaves constant (see the module doc)."""
    with torch.no_grad():
        for name, t in list(net.named_parameters()) + list(net.named_buffers()):
            if not t.is_floating_point() or t.numel() == 0:
                continue
            if t.numel() > 1 and not bool((t == t.flatten()[0]).all()):
                continue
            u = torch.rand(t.shape, generator=g)
            if name.endswith("layer_scale"):
                t.copy_(0.1 + 0.4 * u)
            elif name.endswith("running_var") or float(t.flatten()[0]) == 1.0:
                t.copy_(0.5 + u)
            elif name.endswith("class_token"):
                t.copy_(0.02 * torch.randn(t.shape, generator=g))
            else:
                t.copy_(float(t.flatten()[0]) + 0.4 * u - 0.2)


def export(net, path, size, opset, dynamic_size=True):
    net.train()
    x = torch.randn(2, 3, size, size)
    axes = {"input": {0: "N", 2: "H", 3: "W"}, "output": {0: "N"}} if dynamic_size else {"input": {0: "N"}, "output": {0: "N"}}
    torch.onnx.export(net, x, path, opset_version=opset, input_names=["input"], output_names=["output"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, dynamic_axes=axes)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out", help="folder to write <family>.onnx (small) or <torchvision name>.onnx (full) into")
    p.add_argument("--small", action="store_true", help="reduced depth/width fixtures at 32x32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default="", help="comma-separated families (default: all five)")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    fams = a.only.split(",") if a.only else list(OPSET)
    for i, fam in enumerate(fams):
        torch.manual_seed(a.seed + i)
        g = torch.Generator().manual_seed(a.seed + 100 + i)
        if a.small:
            net, size, name = small(fam), 32, fam
        else:
            name = FULL[fam]
            net, size = getattr(torchvision.models, name)(), 224
        no_stochastic_depth(net)
        perturb(net, g)
        # ViT's position embedding fixes the image size: only the batch is dynamic.
        path = os.path.join(a.out, name + ".onnx")
        export(net, path, size, OPSET[fam], dynamic_size=(fam != "vit"))
        print(f"wrote {path}: {name} ({'small' if a.small else 'full'}), torch {torch.__version__}, "
              f"torchvision {torchvision.__version__}, seed {a.seed + i}, opset {OPSET[fam]}, {size}x{size}")


if __name__ == "__main__":
    main()
