#!/usr/bin/python3
"""Golden values for train/pretext's DenseCL and PixPro losses, computed the way the official
code computes them, on small random inputs.

    /usr/bin/python3 scripts/gen_dense_golden.py    # rewrites train/pretext/testdata/dense_golden.json

DenseCL (WXinlong/DenseCL openselfsup/models/densecl.py, forward_train): backbone maps q_b,
k_b [N,C,h,w] and the necks' outputs — global q, k [N,Dg], dense grids q_grid, k_grid
[N,D,h,w] — with the two queues (columns = keys, as the code stores them). Each query cell's
positive is the key cell whose normalised backbone feature has the highest cosine with the
query cell's (torch.max over dim 2 of the bmm); l_pos_dense = sum(q_grid * gathered k_grid),
l_neg_dense = q_grid · queue2; both heads are ContrastiveHead (cross-entropy over
cat(pos, neg)/T, label 0); loss = (1 - λ)·global + λ·dense, λ = 0.5, T = 0.2.

PixPro (zdaxie/PixPro contrast/models/PixPro.py): featprop with the value transform given as
its output map, pixpro_p = 2, clamp 0; pred = normalize(featprop(proj)); targets normalised;
regression_loss with pos_ratio 0.7, both directions. The crop coordinates are built from
boxes in source pixels as [x0/W, y0/H, x1/W, y1/H] with x0 and x1 swapped for a flipped view
(PixPro divides pixel indices by W - 1; train/pretext uses continuous coordinates, so this
file does too — the rule tested is PixPro's, the normalisation ours).

Seed 0, float64. Versions used: Debian python3-torch 1.13.
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train", "pretext", "testdata",
                   "dense_golden.json")


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def densecl_case(g):
    N, C, h, w, D, Dg, K, K2, T, lam = 2, 6, 3, 3, 5, 4, 5, 7, 0.2, 0.5
    q_b, k_b = torch.randn(N, C, h, w, generator=g, dtype=torch.float64), torch.randn(N, C, h, w, generator=g, dtype=torch.float64)
    q_grid, k_grid = torch.randn(N, D, h, w, generator=g, dtype=torch.float64), torch.randn(N, D, h, w, generator=g, dtype=torch.float64)
    q, k = torch.randn(N, Dg, generator=g, dtype=torch.float64), torch.randn(N, Dg, generator=g, dtype=torch.float64)
    queue = F.normalize(torch.randn(Dg, K, generator=g, dtype=torch.float64), dim=0)
    queue2 = F.normalize(torch.randn(D, K2, generator=g, dtype=torch.float64), dim=0)

    # densecl.py forward_train, as written there.
    qn, kn = F.normalize(q, dim=1), F.normalize(k, dim=1)
    qg = F.normalize(q_grid.view(N, D, -1), dim=1)
    kg = F.normalize(k_grid.view(N, D, -1), dim=1)
    qbn = F.normalize(q_b.view(N, C, -1), dim=1)
    kbn = F.normalize(k_b.view(N, C, -1), dim=1)
    l_pos = torch.einsum('nc,nc->n', [qn, kn]).unsqueeze(-1)
    l_neg = torch.einsum('nc,ck->nk', [qn, queue])
    sim = torch.matmul(qbn.permute(0, 2, 1), kbn)
    ind = sim.max(dim=2)[1]
    indexed = torch.gather(kg, 2, ind.unsqueeze(1).expand(-1, kg.size(1), -1))
    l_pos_dense = (qg * indexed).sum(1).view(-1).unsqueeze(-1)
    qflat = qg.permute(0, 2, 1).reshape(-1, D)
    l_neg_dense = torch.einsum('nc,ck->nk', [qflat, queue2])

    def head(pos, neg):
        logits = torch.cat((pos, neg), dim=1) / T
        return F.cross_entropy(logits, torch.zeros(logits.size(0), dtype=torch.long))

    lg, ld = head(l_pos, l_neg), head(l_pos_dense, l_neg_dense)
    return {"n": N, "c": C, "h": h, "w": w, "d": D, "dg": Dg, "queue": K, "queue2": K2, "temperature": T, "lambda": lam,
            "q_b": flat(q_b), "k_b": flat(k_b), "q_grid": flat(q_grid), "k_grid": flat(k_grid), "q": flat(q), "k": flat(k),
            "queue_rows": flat(queue.t()), "queue2_rows": flat(queue2.t()), "match": [int(v) for v in ind.reshape(-1).tolist()],
            "loss_global": float(lg), "loss_dense": float(ld), "loss": float((1 - lam) * lg + lam * ld)}


def featprop(feat, value):
    N, C, H, W = feat.shape
    v = F.normalize(value, dim=1).view(N, C, -1)
    f = F.normalize(feat, dim=1).view(N, C, -1)
    att = torch.clamp(torch.bmm(f.transpose(1, 2), f), min=0.) ** 2
    return torch.bmm(v, att.transpose(1, 2)).view(N, C, H, W)


def regression_loss(q, k, coord_q, coord_k, pos_ratio=0.7):
    """PixPro.py regression_loss, unchanged but for the dtype of the arrays."""
    N, C, H, W = q.shape
    q = q.view(N, C, -1)
    k = k.view(N, C, -1)
    x_array = torch.arange(0., float(W), dtype=coord_q.dtype).view(1, 1, -1).repeat(1, H, 1)
    y_array = torch.arange(0., float(H), dtype=coord_q.dtype).view(1, -1, 1).repeat(1, 1, W)
    q_bin_width = ((coord_q[:, 2] - coord_q[:, 0]) / W).view(-1, 1, 1)
    q_bin_height = ((coord_q[:, 3] - coord_q[:, 1]) / H).view(-1, 1, 1)
    k_bin_width = ((coord_k[:, 2] - coord_k[:, 0]) / W).view(-1, 1, 1)
    k_bin_height = ((coord_k[:, 3] - coord_k[:, 1]) / H).view(-1, 1, 1)
    q_start_x, q_start_y = coord_q[:, 0].view(-1, 1, 1), coord_q[:, 1].view(-1, 1, 1)
    k_start_x, k_start_y = coord_k[:, 0].view(-1, 1, 1), coord_k[:, 1].view(-1, 1, 1)
    q_bin_diag = torch.sqrt(q_bin_width ** 2 + q_bin_height ** 2)
    k_bin_diag = torch.sqrt(k_bin_width ** 2 + k_bin_height ** 2)
    max_bin_diag = torch.max(q_bin_diag, k_bin_diag)
    center_q_x = (x_array + 0.5) * q_bin_width + q_start_x
    center_q_y = (y_array + 0.5) * q_bin_height + q_start_y
    center_k_x = (x_array + 0.5) * k_bin_width + k_start_x
    center_k_y = (y_array + 0.5) * k_bin_height + k_start_y
    dist_center = torch.sqrt((center_q_x.view(-1, H * W, 1) - center_k_x.view(-1, 1, H * W)) ** 2
                             + (center_q_y.view(-1, H * W, 1) - center_k_y.view(-1, 1, H * W)) ** 2) / max_bin_diag
    pos_mask = (dist_center < pos_ratio).float().detach().to(q.dtype)
    logit = torch.bmm(q.transpose(1, 2), k)
    loss = (logit * pos_mask).sum(-1).sum(-1) / (pos_mask.sum(-1).sum(-1) + 1e-6)
    return -2 * loss.mean(), pos_mask


def pixpro_case(g):
    N, C, h, w, S, view = 3, 4, 3, 3, 60, 48
    # Boxes (x0, y0, x1, y1, flip) in a 60x60 source: overlapping, disjoint, flipped.
    boxes = [[[0, 0, 40, 40, 0], [10, 5, 50, 45, 1]],
             [[0, 0, 20, 20, 0], [35, 35, 60, 60, 0]],
             [[5, 10, 55, 40, 1], [0, 0, 30, 60, 0]]]
    def coords(v):
        out = []
        for b in boxes:
            x0, y0, x1, y1, fl = b[v]
            c = [x0 / S, y0 / S, x1 / S, y1 / S]
            if fl:
                c[0], c[2] = c[2], c[0]
            out.append(c)
        return torch.tensor(out, dtype=torch.float64)
    r = lambda: torch.randn(N, C, h, w, generator=g, dtype=torch.float64)
    p1, p2, v1, v2, t1, t2 = r(), r(), r(), r(), r(), r()
    y1, y2 = F.normalize(featprop(p1, v1), dim=1), F.normalize(featprop(p2, v2), dim=1)
    l12, m12 = regression_loss(y1, F.normalize(t2, dim=1), coords(0), coords(1))
    l21, m21 = regression_loss(y2, F.normalize(t1, dim=1), coords(1), coords(0))
    return {"n": N, "c": C, "h": h, "w": w, "src": S, "view": view, "boxes": boxes,
            "proj1": flat(p1), "proj2": flat(p2), "value1": flat(v1), "value2": flat(v2),
            "target1": flat(t1), "target2": flat(t2),
            "mask12": flat(m12), "mask21": flat(m21), "y1": flat(y1),
            "loss12": float(l12), "loss21": float(l21), "loss": float(l12 + l21)}


def main():
    g = torch.Generator().manual_seed(0)
    out = {"densecl": densecl_case(g), "pixpro": pixpro_case(g)}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", OUT, out["densecl"]["loss"], out["pixpro"]["loss"])


if __name__ == "__main__":
    main()
