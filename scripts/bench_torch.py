#!/usr/bin/python3
"""PyTorch 1.13's side of `ssl4dp bench`: the same training step and the same inference, on
the same machine, so that docs/benchmarks.md can quote ssl4dp / PyTorch ratios.

The network is graphs.Spec{Encoder: E, OutputStride: OS, Head: HeadFCN, Classes: 21} written
in PyTorch (--encoder resnet18|resnet34|resnet50, default resnet18; --output-stride 32|16|8,
default 16): torchvision's resnet with its stages dilated as graphs/resnet.go does it (output
stride 16 dilates layer4, 8 layer3 and layer4; a dilated stage has stride 1, its first block
keeps the previous dilation and the others take the stage's, with padding = dilation). The
Bottleneck (resnet50) is dilated by torchvision's replace_stride_with_dilation, on its 3x3
conv2; the BasicBlock (resnet18, resnet34), which torchvision will not dilate, as
MMSegmentation's BasicBlock: conv1 only, conv2 keeps dilation 1. Then MoCo's FCN head — two
3x3 convs (256 channels, dilation 6, no bias) + BN + ReLU and a 1x1 conv with bias to the
classes — and the logits resized bilinearly (align_corners=False) to the input. Its
state_dict keys are graphs' initializer names, so an ONNX file written by `ssl4dp graphs`
loads into it by name (checked by bench's TestTorchInferenceMatchesORT, which compares the
logits with onnxruntime's for resnet18 OS16 and resnet50 OS8).

    /usr/bin/python3 scripts/bench_torch.py train [--encoder resnet18] [--output-stride 16] [--batch 8] [--size 128] [--steps 10] [--warmup 2] [--threads 2]
        One training step as `ssl4dp bench train --method seg` times it: forward in training
        mode (BatchNorm batch statistics), F.cross_entropy(ignore_index=255), backward,
        torch.optim.SGD(lr=0.01, momentum=0.9, no weight decay), zero_grad. Random input and
        labels (10 % ignored), seed 0. The JSON names the encoder and output stride.
    /usr/bin/python3 scripts/bench_torch.py train --device cuda [--precision fp32|tf32|amp] [--head fcn|deeplabv3plus] ...
        The same step on GPU 0: fp32 turns TF32 off in cuBLAS and cuDNN (cuDNN's is on by
        default), tf32 on in both, amp runs the forward and the loss under
        torch.autocast(fp16) with a GradScaler; cudnn.benchmark on; the step timed between
        torch.cuda.synchronize() calls; peak_device_mib is torch.cuda.max_memory_allocated()
        over what was allocated before the network was built. The JSON adds device,
        precision, peak_device_mib and the GPU, CUDA and cuDNN versions; the CPU's is as before.
        --head deeplabv3plus is graphs' DeepLabV3+ (mmseg's DepthwiseSeparableASPPHead) on any
        device.
    /usr/bin/python3 scripts/bench_torch.py infer --model M.onnx [--encoder resnet18] [--output-stride 16] [--batch 1,8] [--size 512] [--runs 20] [--warmup 3] [--threads 2]
        `ssl4dp bench --model M.onnx` in PyTorch eager: M's weights loaded by name, eval mode,
        torch.no_grad(), the model's three outputs (features, low_level, logits) computed.
        M's graphs spec (its ssl4dp.graphs.spec metadata) must be --encoder, --output-stride,
        --head (fcn by default), width 1.
    /usr/bin/python3 scripts/bench_torch.py infer --model M.onnx [--encoder E] [--output-stride OS] --batch 2 --size 64 --dump DIR
        Writes DIR/input.bin and DIR/logits.bin (float32, little-endian, NCHW) for a seeded
        input, for the Go test; no timing.
    /usr/bin/python3 scripts/bench_torch.py export [--encoder resnet18] [--output-stride 16] OUT.onnx
        Writes the network (random weights, BatchNorm kept, opset 13) as ONNX.

Each timing command prints one JSON object with Go's field names: seconds per step
(step_s) or milliseconds per run (latency_ms) as n/min/p50/p90/p99/max/mean/std, with the
percentiles interpolated linearly as bench.Percentile does (numpy's default); the process's
CPU time per step or run (cpu_s, cpu_ms: time.process_time, all threads); images/s at
the median; memory from /proc/self/status (peak_rss_mib = VmHWM, reset just before the
network is built, and its delta over the resident set at that moment); versions, threads,
CPU and load average. Needs Debian's python3-torch, python3-torchvision and python3-onnx
(recorded: torch 1.13.0a0, torchvision 0.14.1a0, onnx 1.12.0).
"""
import argparse
import datetime
import gc
import json
import math
import os
import platform
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

CLASSES = 21


class ConvModule(nn.Module):
    """mmcv's ConvModule: conv (no bias) + BN + ReLU, with its attribute names; a 3x3 is
    padded by its dilation, a 1x1 not at all."""

    def __init__(self, cin, cout, dilation=1, kernel=3, groups=1):
        super().__init__()
        pad = dilation if kernel == 3 else 0
        self.conv = nn.Conv2d(cin, cout, kernel, 1, pad, dilation, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.activate = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.activate(self.bn(self.conv(x)))


class SepConvModule(nn.Module):
    """mmcv's DepthwiseSeparableConvModule (graphs' sepConvModule): a depthwise 3x3
    ConvModule, then a pointwise 1x1 ConvModule."""

    def __init__(self, cin, cout, dilation):
        super().__init__()
        self.depthwise_conv = ConvModule(cin, cin, dilation, groups=cin)
        self.pointwise_conv = ConvModule(cin, cout, kernel=1)

    def forward(self, x):
        return self.pointwise_conv(self.depthwise_conv(x))


class FCNHead(nn.Module):
    """MoCo's FCN head (graphs/head_mocofcn.go)."""

    def __init__(self, cin, classes, clow=None, output_stride=16):
        super().__init__()
        self.convs = nn.Sequential(ConvModule(cin, 256, 6), ConvModule(256, 256, 6))
        self.conv_seg = nn.Conv2d(256, classes, 1)

    def forward(self, x, low=None):
        return self.conv_seg(self.convs(x))


def resize(x, ref):
    return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)


class DeepLabV3PlusHead(nn.Module):
    """mmseg's DepthwiseSeparableASPPHead as graphs/head_deeplabv3plus.go builds it (channels
    512, c1 48; REFERENCES.md 1.5): ASPP — image pooling (global pool, 1x1 ConvModule,
    upsampled), a 1x1 ConvModule, three separable 3x3 ConvModules at dilations 6, 12, 18 at
    output stride 16 (12, 24, 36 at 8) — concatenated and fused by a regular 3x3 ConvModule;
    then layer1's map to 48 channels (1x1), the ASPP output upsampled to it and concatenated,
    two separable 3x3 ConvModules, and the classifier."""

    def __init__(self, cin, classes, clow, output_stride=16):
        super().__init__()
        ch, c1 = 512, 48
        self.image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvModule(cin, ch, kernel=1))
        rates = [r * 16 // output_stride for r in (6, 12, 18)]
        self.aspp_modules = nn.ModuleList([ConvModule(cin, ch, kernel=1)] + [SepConvModule(cin, ch, d) for d in rates])
        self.bottleneck = ConvModule(5 * ch, ch, 1)
        self.c1_bottleneck = ConvModule(clow, c1, kernel=1)
        self.sep_bottleneck = nn.Sequential(SepConvModule(ch + c1, ch, 1), SepConvModule(ch, ch, 1))
        self.conv_seg = nn.Conv2d(ch, classes, 1)

    def forward(self, x, low):
        outs = [resize(self.image_pool(x), x)] + [m(x) for m in self.aspp_modules]
        y = self.bottleneck(torch.cat(outs, 1))
        c1 = self.c1_bottleneck(low)
        y = self.sep_bottleneck(torch.cat([resize(y, c1), c1], 1))
        return self.conv_seg(y)


HEADS = {"fcn": FCNHead, "deeplabv3plus": DeepLabV3PlusHead}


ENCODERS = ("resnet18", "resnet34", "resnet50")
OUTPUT_STRIDES = (32, 16, 8)
# Which of layer2, layer3, layer4 trade their stride for dilation (graphs/resnet.go).
DILATE = {32: [False, False, False], 16: [False, False, True], 8: [False, True, True]}


def dilated_resnet(encoder, output_stride):
    """torchvision's resnet dilated as graphs/resnet.go's resnet: a dilated stage has stride
    1 and dilation (previous dilation) x 2; its first block keeps the previous dilation, the
    others take the stage's, every 3x3 padded by its dilation."""
    dilate = DILATE[output_stride]
    if encoder == "resnet50":
        # Bottleneck: torchvision's replace_stride_with_dilation does exactly that, on conv2.
        return torchvision.models.resnet50(replace_stride_with_dilation=dilate)
    r = getattr(torchvision.models, encoder)()
    # BasicBlock: torchvision raises for dilation > 1, so dilate it here as MMSegmentation's
    # BasicBlock does (graphs' basicBlock): conv1 only; conv2 keeps dilation and padding 1.
    d = 1
    for layer, dil in zip([r.layer2, r.layer3, r.layer4], dilate):
        if not dil:
            continue
        prev, d = d, d * 2
        layer[0].conv1.stride = (1, 1)
        layer[0].downsample[0].stride = (1, 1)  # every layer2-4 first block has one
        for i, blk in enumerate(layer):
            k = prev if i == 0 else d
            blk.conv1.dilation, blk.conv1.padding = (k, k), (k, k)
    return r


class Segmenter(nn.Module):
    """Attribute names follow graphs/ (torchvision's for the encoder, mmseg's for the head),
    so the state_dict keys equal graphs' initializer names."""

    def __init__(self, encoder="resnet18", output_stride=16, classes=CLASSES, all_outputs=False, head="fcn"):
        super().__init__()
        r = dilated_resnet(encoder, output_stride)
        for name in ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]:
            setattr(self, name, getattr(r, name))
        clow = 256 if encoder == "resnet50" else 64  # layer1's channels
        # r.fc.in_features: 512, or 2048 for the Bottleneck.
        self.head = HEADS[head](r.fc.in_features, classes, clow, output_stride)
        self.all_outputs = all_outputs

    def forward(self, x):
        low = self.layer1(self.maxpool(self.relu(self.bn1(self.conv1(x)))))
        f = self.layer4(self.layer3(self.layer2(low)))
        logits = F.interpolate(self.head(f, low), size=x.shape[-2:], mode="bilinear", align_corners=False)
        if self.all_outputs:  # what graphs' model returns: features, low_level, logits
            return f, low, logits
        return logits


# --- measurement, mirroring bench/stats.go, bench/memory.go and bench/env.go ---

def percentile(s, p):
    """bench.Percentile: linear interpolation at h = (n-1)p/100 of the sorted samples."""
    h = (len(s) - 1) * p / 100
    lo = math.floor(h)
    if lo >= len(s) - 1:
        return s[-1]
    return s[lo] + (h - lo) * (s[lo + 1] - s[lo])


def summarize(x):
    s = sorted(x)
    n = len(s)
    mean = sum(s) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in s) / (n - 1)) if n > 1 else 0.0
    return {"n": n, "min": s[0], "p50": percentile(s, 50), "p90": percentile(s, 90), "p99": percentile(s, 99),
            "max": s[-1], "mean": mean, "std": std}


def memory():
    """VmRSS and VmHWM of this process in MiB."""
    m = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                m[key] = int(rest.split()[0]) / 1024
    return m["VmRSS"], m["VmHWM"]


def baseline():
    """The resident set after a collection, with the peak reset to it (bench.baseline)."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    return memory()[0], reset


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.strip() == "model name":
                return v.strip()
    return "unknown"


def env():
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cpu": cpu_model(), "cpus": os.cpu_count(), "load_start": loadavg(),
            "torch": torch.__version__, "torchvision": torchvision.__version__, "python": platform.python_version()}


# --- commands ---

def set_precision(precision):
    """The CUDA math modes of --precision: fp32 turns TF32 off in cuBLAS and cuDNN (PyTorch
    enables it for cuDNN convolutions by default), tf32 turns it on in both, amp keeps fp32
    matmuls under torch.autocast's fp16."""
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    # mmseg's configs train with cudnn_benchmark = True: PyTorch's usual GPU speed.
    torch.backends.cudnn.benchmark = True


def grad_scaler():
    """AMP's loss scaler: torch.amp.GradScaler("cuda") where it exists (PyTorch ≥ 2.3), else
    torch.cuda.amp.GradScaler."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


def train(a):
    if a.device == "cuda":
        return train_cuda(a)
    e = env()
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, CLASSES, (a.batch, a.size, a.size))
    y[torch.rand(a.batch, a.size, a.size) < 0.1] = 255
    before, reset = baseline()
    net = Segmenter(a.encoder, a.output_stride, head=a.head).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    times, cpu, losses = [], [], []
    for i in range(a.warmup + a.steps):
        start, cpu0 = time.perf_counter(), time.process_time()
        loss = F.cross_entropy(net(x), y, ignore_index=255)
        loss.backward()
        opt.step()
        opt.zero_grad()
        elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu0
        losses.append(loss.item())
        if i >= a.warmup:
            times.append(elapsed)
            cpu.append(cpu_used)
    rss, peak = memory()
    st = summarize(times)
    e["load_end"] = loadavg()
    return {
        "method": "seg", "encoder": a.encoder, "head": a.head, "output_stride": a.output_stride, "classes": CLASSES,
        "batch": a.batch, "size": a.size, "steps": a.steps, "warmup": a.warmup, "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in net.parameters()),
        "step_s": st, "cpu_s": summarize(cpu), "images_per_s": a.batch / st["p50"], "loss_first": losses[0], "loss_last": losses[-1],
        "peak_rss_mib": peak, "baseline_rss_mib": before, "network_rss_mib": peak - before, "peak_reset": reset,
        "env": e,
    }


def train_cuda(a):
    """train on GPU 0 at --precision: the same step, with torch.cuda.synchronize() around
    each so the times are the GPU's, AMP as torch.autocast(fp16) with a GradScaler, and the
    peak device memory torch.cuda.max_memory_allocated() since just before the network was
    built (the batch excluded, as ssl4dp's peak over its baseline)."""
    if not torch.cuda.is_available():
        sys.exit("bench_torch.py: --device cuda: torch %s sees no CUDA GPU (torch.cuda.is_available() is False)" % torch.__version__)
    e = env()
    dev = torch.device("cuda", 0)
    e["gpu"] = torch.cuda.get_device_name(dev)
    e["cuda"] = torch.version.cuda
    e["cudnn"] = torch.backends.cudnn.version()
    set_precision(a.precision)
    amp = a.precision == "amp"
    x = torch.randn(a.batch, 3, a.size, a.size).to(dev)
    y = torch.randint(0, CLASSES, (a.batch, a.size, a.size))
    y[torch.rand(a.batch, a.size, a.size) < 0.1] = 255
    y = y.to(dev)
    torch.cuda.synchronize(dev)
    base = torch.cuda.memory_allocated(dev)
    torch.cuda.reset_peak_memory_stats(dev)
    net = Segmenter(a.encoder, a.output_stride, head=a.head).train().to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    scaler = grad_scaler() if amp else None
    times, cpu, losses = [], [], []
    for i in range(a.warmup + a.steps):
        torch.cuda.synchronize(dev)
        start, cpu0 = time.perf_counter(), time.process_time()
        with torch.autocast(device_type="cuda", dtype=torch.float16, enabled=amp):
            loss = F.cross_entropy(net(x), y, ignore_index=255)
        if amp:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        opt.zero_grad()
        losses.append(loss.item())  # waits for the step's kernels
        torch.cuda.synchronize(dev)
        elapsed, cpu_used = time.perf_counter() - start, time.process_time() - cpu0
        if i >= a.warmup:
            times.append(elapsed)
            cpu.append(cpu_used)
    peak = torch.cuda.max_memory_allocated(dev)
    st = summarize(times)
    e["load_end"] = loadavg()
    return {
        "method": "seg", "device": "cuda", "precision": a.precision, "encoder": a.encoder, "head": a.head,
        "output_stride": a.output_stride, "classes": CLASSES, "batch": a.batch, "size": a.size, "steps": a.steps,
        "warmup": a.warmup, "params": sum(p.numel() for p in net.parameters()),
        "step_s": st, "cpu_s": summarize(cpu), "images_per_s": a.batch / st["p50"], "loss_first": losses[0], "loss_last": losses[-1],
        "peak_device_mib": (peak - base) / 2**20, "baseline_device_mib": base / 2**20,
        "cudnn_benchmark": torch.backends.cudnn.benchmark, "env": e,
    }


def load_graphs_model(path, encoder, output_stride, head="fcn"):
    """A Segmenter holding the initializers of graphs' encoder + head model at path, which
    must have been built with that encoder, output stride and head."""
    import onnx
    import onnx.numpy_helper
    m = onnx.load(path)
    meta = {p.key: p.value for p in m.metadata_props}
    spec = json.loads(meta.get("ssl4dp.graphs.spec", "{}"))
    want = {"Encoder": encoder, "OutputStride": output_stride, "Head": head, "Width": 1}
    got = {k: spec.get(k) for k in want}
    if got != want:
        sys.exit(f"bench_torch.py: {path}: graphs spec {got}; this command builds {want} (pass --encoder and "
                 f"--output-stride and --head as the model's; only width 1 is written here)")
    inits = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in m.graph.initializer}
    classes = inits["head.conv_seg.weight"].shape[0]
    net = Segmenter(encoder, output_stride, classes, all_outputs=True, head=head)
    sd = net.state_dict()
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            continue
        if k not in inits:
            sys.exit(f"bench_torch.py: {path}: no initializer {k!r}")
        if tuple(inits[k].shape) != tuple(v.shape):
            sys.exit(f"bench_torch.py: {path}: {k!r} has shape {tuple(inits[k].shape)}, want {tuple(v.shape)}")
        sd[k] = inits[k]
    net.load_state_dict(sd)
    return net.eval()


def seeded_input(batch, size):
    g = torch.Generator().manual_seed(1)
    return torch.rand(batch, 3, size, size, generator=g) * 2 - 1


def infer(a):
    batches = [int(b) for b in a.batch.split(",")]
    if a.dump:
        net = load_graphs_model(a.model, a.encoder, a.output_stride, a.head)
        x = seeded_input(batches[0], a.size)
        with torch.no_grad():
            logits = net(x)[2]
        os.makedirs(a.dump, exist_ok=True)
        x.numpy().astype("<f4").tofile(os.path.join(a.dump, "input.bin"))
        logits.numpy().astype("<f4").tofile(os.path.join(a.dump, "logits.bin"))
        return {"input": list(x.shape), "logits": list(logits.shape)}
    e = env()
    results = []
    for batch in batches:
        x = seeded_input(batch, a.size)
        before, reset = baseline()
        start = time.perf_counter()
        net = load_graphs_model(a.model, a.encoder, a.output_stride, a.head)
        load_ms = (time.perf_counter() - start) * 1e3
        times, cpu = [], []
        with torch.no_grad():
            for i in range(a.warmup + a.runs):
                t, cpu0 = time.perf_counter(), time.process_time()
                net(x)
                if i >= a.warmup:
                    times.append((time.perf_counter() - t) * 1e3)
                    cpu.append((time.process_time() - cpu0) * 1e3)
        rss, peak = memory()
        st = summarize(times)
        results.append({"batch": batch, "inputs": {"input": list(x.shape)}, "session_ms": load_ms, "latency_ms": st, "cpu_ms": summarize(cpu),
                        "images_per_s": batch / (st["p50"] / 1e3), "peak_rss_mib": peak,
                        "session_rss_mib": peak - before, "peak_reset": reset})
        del net
    e["load_end"] = loadavg()
    return {"model": a.model, "runtime": "pytorch eager", "threads": torch.get_num_threads(), "warmup": a.warmup,
            "runs": a.runs, "env": e, "results": results}


def export(a):
    net = Segmenter(a.encoder, a.output_stride, head=a.head).train()
    # onnx/importer's TestBenchNetworkMatchesGraphs loads graphs' weights into this file by
    # name and compares the two networks' outputs in onnxruntime.
    torch.onnx.export(net, torch.randn(1, 3, 64, 64), a.out, opset_version=13, input_names=["input"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}})
    return None


def network_flags(p):
    p.add_argument("--encoder", choices=ENCODERS, default="resnet18")
    p.add_argument("--output-stride", type=int, choices=OUTPUT_STRIDES, default=16)
    p.add_argument("--head", choices=sorted(HEADS), default="fcn")


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="time one training step")
    network_flags(t)
    t.add_argument("--batch", type=int, default=8)
    t.add_argument("--size", type=int, default=128)
    t.add_argument("--steps", type=int, default=10)
    t.add_argument("--warmup", type=int, default=2)
    t.add_argument("--threads", type=int, default=os.cpu_count())
    t.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    t.add_argument("--precision", choices=("fp32", "tf32", "amp"), default="fp32",
                   help="with --device cuda: fp32 (TF32 off in cuBLAS and cuDNN), tf32, or amp (torch.autocast fp16 + GradScaler)")
    i = sub.add_parser("infer", help="time eager inference of a graphs/ model")
    network_flags(i)
    i.add_argument("--model", required=True)
    i.add_argument("--batch", default="1")
    i.add_argument("--size", type=int, default=512)
    i.add_argument("--runs", type=int, default=20)
    i.add_argument("--warmup", type=int, default=3)
    i.add_argument("--threads", type=int, default=os.cpu_count())
    i.add_argument("--dump", help="write input.bin and logits.bin here instead of timing")
    x = sub.add_parser("export", help="write the network as ONNX")
    network_flags(x)
    x.add_argument("out")
    return p


def run(argv=None):
    """Runs one command and returns its JSON object (None for export)."""
    p = parser()
    a = p.parse_args(argv)
    if getattr(a, "device", "cpu") == "cpu" and getattr(a, "precision", "fp32") != "fp32":
        p.error(f"--precision {a.precision} needs --device cuda (the CPU step is fp32)")
    torch.manual_seed(0)
    if hasattr(a, "threads"):
        torch.set_num_threads(a.threads)
    return {"train": train, "infer": infer, "export": export}[a.cmd](a)


def main():
    out = run()
    if out is not None:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
