#!/usr/bin/python3
"""Prints docs/benchmarks.md's CPU-training-step tables from train_session.sh's reports:

    train_table.py OUT [BEFORE]

OUT holds ssl4dp's and PyTorch's reports; BEFORE, if given, an older build's ssl4dp reports
(TORCH=0), shown beside them. Then the per-op profile of each network's first 2-thread run."""
import json, os, sys

D = sys.argv[1]
B = sys.argv[2] if len(sys.argv) > 2 else None
NETS = {"r18": "ResNet-18 OS16 + MoCo FCN, batch 8, 128×128", "r50": "ResNet-50 OS8 + MoCo FCN, batch 4, 256×256"}


def j(d, p):
    path = os.path.join(d, p)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def span(s):
    return f"{s['p50']:.2f} ({s['min']:.2f}–{s['max']:.2f})"


head = "| network | threads | run |"
if B:
    head += " ssl4dp before s/step |"
head += " ssl4dp s/step: p50 (min–max) | PyTorch s/step | ratio of p50 | CPU s/step ssl4dp / PyTorch | peak MiB over baseline ssl4dp / PyTorch | load |"
print(head)
print("|" + "---|" * (head.count("|") - 1))
for net in NETS:
    for th in (2, 1):
        for i in (1, 2):
            g, t = j(D, f"go_{net}_t{th}_{i}.json"), j(D, f"torch_{net}_t{th}_{i}.json")
            if g is None or t is None:
                continue
            row = f"| {net} | {th} | {i} |"
            if B:
                b = j(B, f"go_{net}_t{th}_{i}.json")
                row += f" {span(b['step_s']) if b else '–'} |"
            row += (f" {span(g['step_s'])} | {span(t['step_s'])} | **{g['step_s']['p50'] / t['step_s']['p50']:.2f}** "
                    f"| {g['cpu_s']['p50']:.2f} / {t['cpu_s']['p50']:.2f} | {g['network_rss_mib']:.0f} / {t['network_rss_mib']:.0f} "
                    f"| {g['env']['load_start'][0]:.1f}, {t['env']['load_start'][0]:.1f} |")
            print(row)
print()
for d, label in ((D, "ssl4dp"), (B, "before")):
    if not d:
        continue
    one = [j(d, f"go_r18_t1_{i}.json") for i in (1, 2)]
    two = [j(d, f"go_r18_t2_{i}.json") for i in (1, 2)]
    if all(one) and all(two):
        best1, best2 = min(r["step_s"]["p50"] for r in one), min(r["step_s"]["p50"] for r in two)
        print(f"{label}: second-core gain on r18 (best p50 at 1 thread / best at 2): {best1 / best2:.2f}×")
t1 = [j(D, f"torch_r18_t1_{i}.json") for i in (1, 2)]
t2 = [j(D, f"torch_r18_t2_{i}.json") for i in (1, 2)]
if all(t1) and all(t2):
    print(f"PyTorch: second-core gain on r18: {min(r['step_s']['p50'] for r in t1) / min(r['step_s']['p50'] for r in t2):.2f}×")
for net in NETS:
    for d, label in ((B, "before"), (D, "after")):
        if not d:
            continue
        g = j(d, f"go_{net}_t2_1.json")
        if not g or not g.get("profile"):
            continue
        p = g["profile"]
        print(f"\n{NETS[net]}, 2 threads, {label} (commit {g['env'].get('commit', '?')}): mean {1e3 * p['step_s']:.0f} ms per step, {1e3 * p['ops_s']:.0f} ms inside ops\n")
        print("| op | pass | calls | ms/step | share | GFLOP/s |")
        print("|---|---|---|---|---|---|")
        for r in p["ops"]:
            if r["ms"] < 0.05 * 1e3 * p["step_s"] / 100:  # below 0.05 % of the step
                continue
            gf = f"{r['gflop_per_s']:.0f}" if r.get("gflop_per_s") else "–"
            print(f"| {r['name']} | {r['pass']} | {r['calls']:.0f} | {r['ms']:.1f} | {100 * r['share']:.1f} % | {gf} |")
        for r in p["outside"]:
            print(f"| {r['name']} | | | {r['ms']:.1f} | {100 * r['share']:.1f} % | |")
