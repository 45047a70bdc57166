#!/usr/bin/python3
"""Golden gradients of the ConvNeXt and ViT family fixtures, from PyTorch autograd.

Writes onnx/importer/testdata/families/{convnext,vit}_golden.pb: one float64 training-mode
forward and backward pass of torchvision's own module (scripts/export_families.py's small
configurations) with the committed fixture's values loaded by state_dict key, on a seeded
input, loss L = Σ output ⊙ R for a seeded R: input, target (R), loss and every parameter's
gradient (grad/<state_dict key>). Stored as an ONNX ModelProto holding only initializers,
like the other golden files in that folder.

Made with Debian's python3-torch 1.13.1, python3-torchvision 0.14.1, python3-onnx 1.12, seed 0.
Command (from the repository root):   /usr/bin/python3 scripts/gen_families_golden.py
"""
import importlib.util
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "onnx", "importer", "testdata", "families")
SEED = 0

spec = importlib.util.spec_from_file_location("export_families", os.path.join(HERE, "export_families.py"))
families = importlib.util.module_from_spec(spec)
spec.loader.exec_module(families)


def tensor(name, a):
    return numpy_helper.from_array(np.ascontiguousarray(a), name)


def main():
    gen = torch.Generator().manual_seed(SEED)
    for fam in ["convnext", "vit"]:
        m = onnx.load(os.path.join(OUT, fam + ".onnx"))
        inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
        net = families.small(fam).double()
        families.no_stochastic_depth(net)
        with torch.no_grad():
            for k, v in net.state_dict().items():
                if k not in inits:
                    raise SystemExit(f"{fam}: state_dict key {k} is not an initializer of the fixture")
                v.copy_(torch.from_numpy(inits[k].copy()))
        net.train()
        x = torch.randn(2, 3, 32, 32, generator=gen, dtype=torch.float64)
        r = torch.randn(2, 10, generator=gen, dtype=torch.float64)
        loss = (net(x) * r).sum()
        loss.backward()
        ts = [tensor("input", x.numpy()), tensor("target", r.numpy()), tensor("loss", np.array(loss.item()))]
        for k, p in net.named_parameters():
            ts.append(tensor("grad/" + k, p.grad.numpy()))
        g = onnx.helper.make_graph([], fam + "_golden", [], [], initializer=ts)
        gm = onnx.helper.make_model(g, producer_name="scripts/gen_families_golden.py",
                                    opset_imports=[onnx.helper.make_opsetid("", 13)])
        gm.ir_version = 8
        path = os.path.join(OUT, fam + "_golden.pb")
        onnx.save(gm, path)
        print(f"wrote {path}: loss {loss.item():.6f}, {len(ts) - 3} gradients, torch {torch.__version__}")


if __name__ == "__main__":
    main()
