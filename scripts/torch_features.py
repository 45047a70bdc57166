#!/usr/bin/python3
"""Load a continued encoder back into torchvision by state_dict key and print its dense map.

This is how a user takes an ssl4dp-trained encoder home: every initializer of encoder.onnx
(`train pretext --init X.onnx`) is a state_dict key of the torchvision module it was
exported from, so load_state_dict(strict=False) restores it, with only the classifier
missing. The dense map is the one ssl4dp defaults to: the last stage's map before global
pooling, or a ViT's patch tokens (class token dropped) as an [N, C, h, w] grid.

Usage: scripts/torch_features.py INPUT.f32 FAMILY=ENCODER.onnx=OUT.f32 [...] [--full]
  INPUT.f32   raw float32 images [2, 3, 32, 32] (224 with --full)
  FAMILY      convnext | efficientnet | mobilenet_v3 | regnet | vit: export_families.py's
              small configurations, or with --full torchvision's convnext_tiny, … vit_b_16
  OUT.f32     the dense map, raw float32, in evaluation mode
Debian's python3-torch 1.13.1, python3-torchvision 0.14.1, python3-onnx 1.12; used by
cmd/ssl4dp's TestTrainFamiliesFromTheirExports when torch is installed.
"""
import importlib.util
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("export_families", os.path.join(HERE, "export_families.py"))
families = importlib.util.module_from_spec(spec)
spec.loader.exec_module(families)


def dense(fam, net, x):
    if fam == "regnet":
        return net.trunk_output(net.stem(x))
    if fam == "vit":
        n = x.shape[0]
        t = net._process_input(x)
        t = torch.cat([net.class_token.expand(n, -1, -1), t], dim=1)
        t = net.encoder(t)[:, 1:]
        side = int(round((t.shape[1]) ** 0.5))
        return t.reshape(n, side, side, t.shape[2]).permute(0, 3, 1, 2)
    return net.features(x)


def main():
    args = [a for a in sys.argv[1:] if a != "--full"]
    full = "--full" in sys.argv
    size = 224 if full else 32
    x = torch.from_numpy(np.fromfile(args[0], dtype=np.float32).reshape(2, 3, size, size))
    for job in args[1:]:
        fam, enc, out = job.split("=")
        net = getattr(torchvision.models, families.FULL[fam])() if full else families.small(fam)
        m = onnx.load(enc)
        state = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in m.graph.initializer
                 if t.data_type == onnx.TensorProto.FLOAT}
        keys = set(net.state_dict())
        extra = [k for k in state if k not in keys]
        if extra:
            raise SystemExit(f"{fam}: {len(extra)} initializers of {enc} are no state_dict key: {extra[:5]}")
        missing, _ = net.load_state_dict(state, strict=False)
        kept = [k for k in missing if not k.startswith(("classifier", "fc", "heads")) and not k.endswith("num_batches_tracked")]
        if kept:
            raise SystemExit(f"{fam}: encoder keys missing from {enc}: {kept[:5]}")
        net.eval()
        with torch.no_grad():
            dense(fam, net, x).contiguous().numpy().astype(np.float32).tofile(out)


if __name__ == "__main__":
    main()
