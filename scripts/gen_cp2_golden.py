#!/usr/bin/python3
"""Golden values for CP2's loss (train/pretext/loss_cp2.go).

    /usr/bin/python3 scripts/gen_cp2_golden.py    # rewrites train/pretext/testdata/cp2_golden.json

Made with Debian's python3-torch (the version is recorded in the file), seed 0, float64.
The reference is CP2's own formula (wangf3014/CP2 builder.py CP2_MOCO.forward and main.py
train): dense features normalised per cell, q_pos/k_pos the normalised masked sums,
MoCo logits [l_pos, l_neg]/T with cross-entropy at label 0, dense logits
einsum('ncx,ncy->nxy') without temperature, -LogSoftmax over dim 1 (the query cells) weighted
by mask_q[x]·mask_k[y], summed per image and divided by the image's number of pairs, then the
mean over images; loss = loss_instance + 0.2·loss_dense. One difference, which our code
shares: an image without foreground on one side (CP2 would divide 0 by 0) is left out of the
mean over images — image 2 here has an empty query mask.

The inputs are the raw (unnormalised) query and key maps [N, D, hw]; the gradient is
d loss / d raw query map by autograd (keys, masks and queue are constants, as in CP2).
The default Go test run needs only the JSON file, never Python.
"""
import json
import os

import torch
import torch.nn.functional as F

SEED = 0
N, D, HW, K = 3, 4, 6, 5
T, W = 0.2, 0.2
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train", "pretext", "testdata", "cp2_golden.json")

gen = torch.Generator().manual_seed(SEED)


def rand(*shape):
    return torch.round((torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1) * 1e4) / 1e4


q_raw = rand(N, D, HW).requires_grad_(True)
k_raw = rand(N, D, HW)
queue = F.normalize(rand(K, D), dim=1)  # rows are queued keys
mask_q = torch.tensor([[1, 1, 0, 1, 0, 0], [0, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0]], dtype=torch.float64)
mask_k = torch.tensor([[0, 1, 1, 0, 0, 1], [1, 1, 0, 0, 1, 1], [1, 0, 1, 0, 0, 0]], dtype=torch.float64)

q_dense = F.normalize(q_raw, dim=1)
q_pos = F.normalize(torch.einsum('ncx,nx->nc', [q_dense, mask_q]), dim=1, eps=1e-12)
k_dense = F.normalize(k_raw, dim=1)
k_pos = F.normalize(torch.einsum('ncx,nx->nc', [k_dense, mask_k]), dim=1)

logits_dense = torch.einsum('ncx,ncy->nxy', [q_dense, k_dense])
labels_dense = torch.einsum('nx,ny->nxy', [mask_q, mask_k]).reshape(N, -1)
l_pos = torch.einsum('nc,nc->n', [q_pos, k_pos]).unsqueeze(-1)
l_neg = torch.einsum('nc,ck->nk', [q_pos, queue.t()])
logits_moco = torch.cat([l_pos, l_neg], dim=1) / T
loss_ins = F.cross_entropy(logits_moco, torch.zeros(N, dtype=torch.long))

neg_log = (-1.0 * F.log_softmax(logits_dense, dim=1)).reshape(N, -1)
per_image = torch.mul(neg_log, labels_dense).sum(dim=1)
pairs = labels_dense.sum(dim=1)
valid = pairs > 0
loss_dense = torch.mean(per_image[valid] / pairs[valid])
loss = loss_ins + W * loss_dense
loss.backward()


def flat(x):
    return [float(v) for v in x.detach().reshape(-1).tolist()]


out = {
    "header": {"script": "scripts/gen_cp2_golden.py", "seed": SEED, "torch": torch.__version__,
               "command": "/usr/bin/python3 scripts/gen_cp2_golden.py"},
    "n": N, "d": D, "hw": HW, "k": K, "temperature": T, "dense_weight": W,
    "q_raw": flat(q_raw), "k_raw": flat(k_raw), "queue": flat(queue),
    "mask_q": flat(mask_q), "mask_k": flat(mask_k),
    "loss": loss.item(), "ins": loss_ins.item(), "dense": loss_dense.item(),
    "grad_q_raw": flat(q_raw.grad), "dense_logits": flat(logits_dense),
}
with open(OUT, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", OUT)
