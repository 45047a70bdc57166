#!/usr/bin/python3
"""Prints the tables of docs/benchmarks.md's bench section from one session's reports: run.sh's OUT
folder, or this folder when no argument is given."""
import json, os, sys

D = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def j(p):
    with open(os.path.join(D, p)) as f:
        return json.load(f)


print("| threads | run | ssl4dp s/step: p50 (min–max) | PyTorch s/step: p50 (min–max) | ratio of p50 | CPU s/step ssl4dp / PyTorch | ratio of CPU | load (1 min) |")
print("|---|---|---|---|---|---|---|---|")
for th in (1, 2):
    for i in (1, 2):
        g, t = j(f"go_train_t{th}_{i}.json"), j(f"torch_train_t{th}_{i}.json")
        gs, ts, gc, tc = g["step_s"], t["step_s"], g["cpu_s"], t["cpu_s"]
        print(f"| {th} | {i} | {gs['p50']:.2f} ({gs['min']:.2f}–{gs['max']:.2f}) | {ts['p50']:.2f} ({ts['min']:.2f}–{ts['max']:.2f}) "
              f"| **{gs['p50'] / ts['p50']:.2f}** | {gc['p50']:.2f} / {tc['p50']:.2f} | **{gc['p50'] / tc['p50']:.2f}** "
              f"| {g['env']['load_start'][0]:.1f}, {t['env']['load_start'][0]:.1f} |")
print()
print("| threads | run | ssl4dp peak RSS MiB (network + step over baseline) | PyTorch peak RSS MiB (network + step over baseline) |")
print("|---|---|---|---|")
for th in (1, 2):
    for i in (1, 2):
        g, t = j(f"go_train_t{th}_{i}.json"), j(f"torch_train_t{th}_{i}.json")
        print(f"| {th} | {i} | {g['peak_rss_mib']:.0f} ({g['network_rss_mib']:.0f} over {g['baseline_rss_mib']:.0f}) "
              f"| {t['peak_rss_mib']:.0f} ({t['network_rss_mib']:.0f} over {t['baseline_rss_mib']:.0f}) |")
print()
print("| threads | run | batch | onnxruntime ms: p50 (min–max) | PyTorch eager ms: p50 (min–max) | ratio of p50 | CPU ms onnxruntime / PyTorch | ratio of CPU | peak RSS MiB (session) ORT / PyTorch | load |")
print("|---|---|---|---|---|---|---|---|---|---|")
for th in (1, 2):
    for i in (1, 2):
        g, t = j(f"ort_infer_t{th}_{i}.json"), j(f"torch_infer_t{th}_{i}.json")
        for rg, rt in zip(g["results"], t["results"]):
            lg, lt, cg, ct = rg["latency_ms"], rt["latency_ms"], rg["cpu_ms"], rt["cpu_ms"]
            print(f"| {th} | {i} | {rg['batch']} | {lg['p50']:.0f} ({lg['min']:.0f}–{lg['max']:.0f}) | {lt['p50']:.0f} ({lt['min']:.0f}–{lt['max']:.0f}) "
                  f"| **{lg['p50'] / lt['p50']:.2f}** | {cg['p50']:.0f} / {ct['p50']:.0f} | **{cg['p50'] / ct['p50']:.2f}** "
                  f"| {rg['peak_rss_mib']:.0f} ({rg['session_rss_mib']:.0f}) / {rt['peak_rss_mib']:.0f} ({rt['session_rss_mib']:.0f}) "
                  f"| {g['env']['load_start'][0]:.1f}, {t['env']['load_start'][0]:.1f} |")
