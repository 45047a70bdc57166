#!/usr/bin/python3
"""Superseded by scripts/bench_torch.py, which holds the network and the timing; this keeps
the old command line that onnx/importer/bench_test.go runs:

    /usr/bin/python3 scripts/bench_torch_step.py [--steps 10] [--warmup 2] [--threads 2] [--batch 8] [--size 128]
    /usr/bin/python3 scripts/bench_torch_step.py --export OUT.onnx

The first prints bench_torch.py train's JSON plus its old field median_s (= step_s.p50).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_torch  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--export")
    a = p.parse_args()
    if a.export:
        bench_torch.run(["export", a.export])
        return
    out = bench_torch.run(["train", "--steps", str(a.steps), "--warmup", str(a.warmup), "--threads", str(a.threads),
                           "--batch", str(a.batch), "--size", str(a.size)])
    out["median_s"] = out["step_s"]["p50"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
