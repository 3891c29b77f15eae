#!/usr/bin/env python3
"""The reference workloads of bench/run.ts in PyTorch, 1 thread, for the TF.js/PyTorch ratio.

Same architectures as prune-at-init's buildModel (lib/src/models.ts), same random masks density
(weights multiplied by a fixed 0/1 mask in every forward pass), SGD with momentum 0.9, softmax
cross-entropy, loss and accuracy read back each step (as Trainer.step does). Writes its medians
into the "pytorch" key of the JSON file given by --out (merging with bench/run.ts's results).

    python3 bench/pytorch_bench.py --out bench/results.json [--steps 20 --warmup 5 --workloads a,b]

bench/run.ts uses --serve instead, to interleave PyTorch and TF.js steps (fair under shared load).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time


def _threads_arg(argv):
    """--threads N, read before torch is imported (see below)."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# torch.set_num_threads only sizes PyTorch's own OpenMP pool: Debian's torch calls OpenBLAS
# (libopenblas0-pthread), whose separate thread pool still used both cores (process CPU time was 2x
# wall time). The BLAS pools read these variables once, when the library loads, so set them first.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = _threads_arg(sys.argv)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DENSITY = 0.1
LR, MOMENTUM = 0.01, 0.9
# fraction of weights kept by the masks of the models being built (Workload sets it per model)
_density = DENSITY


class MaskedLinear(nn.Linear):
    def __init__(self, fan_in, fan_out, gen):
        super().__init__(fan_in, fan_out)
        self.register_buffer("mask", (torch.rand(self.weight.shape, generator=gen) < _density).float())

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class MaskedConv(nn.Conv2d):
    def __init__(self, cin, cout, k, stride, bias, gen):
        super().__init__(cin, cout, k, stride=stride, padding=k // 2, bias=bias)
        self.register_buffer("mask", (torch.rand(self.weight.shape, generator=gen) < _density).float())

    def forward(self, x):
        return self._conv_forward(x, self.weight * self.mask, self.bias)


ACT = {"relu": torch.relu, "tanh": torch.tanh}


class Ffnn(nn.Module):
    """784 -> hidden... -> 10; activation between layers (not after the last)."""

    def __init__(self, hidden, act, gen):
        super().__init__()
        dims = [784] + hidden + [10]
        self.layers = nn.ModuleList(MaskedLinear(dims[i], dims[i + 1], gen) for i in range(len(dims) - 1))
        self.act = ACT[act]

    def forward(self, x):
        h = x.reshape(x.shape[0], -1)
        for i, layer in enumerate(self.layers):
            h = layer(h if i == 0 else self.act(h))
        return h


class SmallCnn(nn.Module):
    """conv3x3(32)-relu -> conv3x3(32)-relu -> maxpool2 -> conv3x3(64)-relu -> maxpool2 -> dense 10."""

    def __init__(self, gen):
        super().__init__()
        self.c1 = MaskedConv(1, 32, 3, 1, True, gen)
        self.c2 = MaskedConv(32, 32, 3, 1, True, gen)
        self.c3 = MaskedConv(32, 64, 3, 1, True, gen)
        self.fc = MaskedLinear(7 * 7 * 64, 10, gen)

    def forward(self, x):
        h = torch.relu(self.c2(torch.relu(self.c1(x))))
        h = F.max_pool2d(h, 2)
        h = F.max_pool2d(torch.relu(self.c3(h)), 2)
        return self.fc(h.flatten(1))


class PreActBlock(nn.Module):
    def __init__(self, cin, cout, stride, gen):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.c1 = MaskedConv(cin, cout, 3, stride, False, gen)
        self.bn2 = nn.BatchNorm2d(cout)
        self.c2 = MaskedConv(cout, cout, 3, 1, False, gen)
        self.sc = MaskedConv(cin, cout, 1, stride, False, gen) if (cin != cout or stride != 1) else None

    def forward(self, h):
        o1 = torch.relu(self.bn1(h))
        z = self.c2(torch.relu(self.bn2(self.c1(o1))))
        return z + (self.sc(o1) if self.sc is not None else h)


class Wrn(nn.Module):
    """Pre-activation WRN-d-k (Zagoruyko & Komodakis), as lib/src/models.ts builds it."""

    def __init__(self, depth, k, gen):
        super().__init__()
        n = (depth - 4) // 6
        widths = [int(16 * k), int(32 * k), int(64 * k)]
        self.stem = MaskedConv(1, 16, 3, 1, False, gen)
        blocks, cin = [], 16
        for s in range(3):
            for b in range(n):
                blocks.append(PreActBlock(cin, widths[s], 2 if (s > 0 and b == 0) else 1, gen))
                cin = widths[s]
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(cin)
        self.fc = MaskedLinear(cin, 10, gen)

    def forward(self, x):
        h = torch.relu(self.bn(self.blocks(self.stem(x))))
        return self.fc(h.mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, gen):
        super().__init__()
        self.c1, self.b1 = MaskedConv(cin, cout, 3, stride, False, gen), nn.BatchNorm2d(cout)
        self.c2, self.b2 = MaskedConv(cout, cout, 3, 1, False, gen), nn.BatchNorm2d(cout)
        self.sc = MaskedConv(cin, cout, 1, stride, False, gen) if (cin != cout or stride != 1) else None
        self.sb = nn.BatchNorm2d(cout) if self.sc is not None else None

    def forward(self, h):
        r = self.b2(self.c2(torch.relu(self.b1(self.c1(h)))))
        return torch.relu(r + (self.sb(self.sc(h)) if self.sc is not None else h))


class ResNet(nn.Module):
    """CIFAR-style post-activation ResNet-(6n+2), widths 16/32/64, as lib/src/models.ts builds it."""

    def __init__(self, depth, gen):
        super().__init__()
        n = (depth - 2) // 6
        self.stem, self.bn = MaskedConv(1, 16, 3, 1, False, gen), nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for s, w in enumerate([16, 32, 64]):
            for b in range(n):
                blocks.append(BasicBlock(cin, w, 2 if (s > 0 and b == 0) else 1, gen))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = MaskedLinear(64, 10, gen)

    def forward(self, x):
        h = self.blocks(torch.relu(self.bn(self.stem(x))))
        return self.fc(h.mean(dim=(2, 3)))


WORKLOADS = {
    "mlp_lenet300_b128": (lambda g: Ffnn([300, 100], "relu", g), 128),
    "ffnn_tanh_d50_w100_b128": (lambda g: Ffnn([100] * 49, "tanh", g), 128),
    "cnn_small_b64": (lambda g: SmallCnn(g), 64),
    "wrn16_2_b64": (lambda g: Wrn(16, 2, g), 64),
    # the standard budget's nets (notebooks 03 and 02): 8-64 channels, where threading narrow convolutions matters
    "wrn16_05_b64": (lambda g: Wrn(16, 0.5, g), 64),
    "resnet20_b100": (lambda g: ResNet(20, g), 100),
}


def timed(fn, steps):
    """Wall and process-CPU ms of each of `steps` calls."""
    wall, cpu = [], []
    for _ in range(steps):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return wall, cpu


class Workload:
    """A model, a fixed batch and an optimiser; train() and infer() each run one step."""

    def __init__(self, name, density=DENSITY):
        global _density
        make, batch = WORKLOADS[name]
        gen = torch.Generator().manual_seed(3)
        _density = density
        self.model = make(gen)
        self.x = torch.randn(batch, 1, 28, 28, generator=gen)
        self.y = torch.randint(0, 10, (batch,), generator=gen)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def train(self):
        self.model.train()
        self.opt.zero_grad(set_to_none=True)
        logits = self.model(self.x)
        loss = F.cross_entropy(logits, self.y)
        loss.backward()
        self.opt.step()
        loss.item()
        (logits.argmax(1) == self.y).sum().item()

    def infer(self):
        self.model.eval()
        with torch.no_grad():
            self.model(self.x).numpy()


def bench(name, warmup, steps):
    w = Workload(name)
    out = {}
    for phase in ("train", "infer"):
        fn = getattr(w, phase)
        timed(fn, warmup)
        wall, cpu = timed(fn, steps)
        out[f"{phase}_ms"] = statistics.median(wall)
        out[f"{phase}_cpu_ms"] = statistics.median(cpu)
        out[f"{phase}_steps"] = len(wall)
    return out


def blas_info():
    """The BLAS this process really loaded: torch's build summary, and for every OpenBLAS mapped into
    the process its own report (version and build, core type picked for this CPU, threads)."""
    import ctypes

    torch.ones(2, 2) @ torch.ones(2, 2)  # make sure the BLAS is loaded
    info = {
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "build": [l.strip() for l in torch.__config__.show().splitlines() if any(k in l for k in ("BLAS", "MKL", "LAPACK", "CPU capability"))],
        "openblas": [],
        # convolutions go to oneDNN (MKL-DNN), with its own JIT kernels, when it is built in
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
    }
    with open("/proc/self/maps") as f:
        # Debian's libblas.so.3 / liblapack.so.3 alternatives can be OpenBLAS builds of their own
        libs = sorted({l.split()[-1] for l in f if "blas" in l.split()[-1].lower() or "lapack" in l.split()[-1].lower()})
    for path in libs:
        lib = ctypes.CDLL(path)
        if not hasattr(lib, "openblas_get_config"):
            continue
        entry = {"path": path}
        for fn, key in (("openblas_get_config", "config"), ("openblas_get_corename", "core")):
            if hasattr(lib, fn):
                getattr(lib, fn).restype = ctypes.c_char_p
                entry[key] = getattr(lib, fn)().decode()
        if hasattr(lib, "openblas_get_num_threads"):
            entry["threads"] = lib.openblas_get_num_threads()
        info["openblas"].append(entry)
    return info


def serve():
    """Line protocol for bench/run.ts, which interleaves PyTorch and TF.js steps so both see the
    same machine load: {"cmd": "setup", "workload", "warmup", "density"?} | {"cmd": "run", "workload",
    "density"?, "phase", "steps"} -> {"wall": [...], "cpu": [...]} | {"cmd": "info"} -> blas_info() |
    {"cmd": "quit"}."""
    cache = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            key = (req.get("workload"), req.get("density", DENSITY))
            if req["cmd"] == "quit":
                break
            if req["cmd"] == "info":
                reply = blas_info()
            elif req["cmd"] == "setup":
                w = cache[key] = Workload(*key)
                timed(w.train, req["warmup"])
                timed(w.infer, req["warmup"])
                reply = {"ok": True}
            else:
                wall, cpu = timed(getattr(cache[key], req["phase"]), req["steps"])
                reply = {"wall": wall, "cpu": cpu}
        except Exception as e:  # report, keep serving
            reply = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="JSON file to merge the results into (key 'pytorch')")
    ap.add_argument("--serve", action="store_true", help="line protocol for bench/run.ts (see serve())")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.serve:
        return serve()
    if not a.out:
        ap.error("--out is required (or --serve)")
    results = {}
    for name in a.workloads.split(","):
        if name not in WORKLOADS:
            raise SystemExit(f"unknown workload {name!r}: known {', '.join(WORKLOADS)}")
        try:
            results[name] = bench(name, a.warmup, a.steps)
            r = results[name]
            print(f"  {name:<26} train {r['train_ms']:7.2f} ms  infer {r['infer_ms']:7.2f} ms  (cpu {r['train_cpu_ms']:.2f} / {r['infer_cpu_ms']:.2f})", flush=True)
        except Exception as e:  # one failing workload must not lose the others
            results[name] = {"error": str(e)}
            print(f"  {name:<26} failed: {e}", flush=True)
    data = {}
    if os.path.exists(a.out):
        with open(a.out) as f:
            data = json.load(f)
    data["pytorch"] = results
    data["pytorch_meta"] = {
        "torch": torch.__version__, "threads": torch.get_num_threads(), "python": platform.python_version(),
        "backends": [l.strip() for l in torch.__config__.show().splitlines() if ("MKL" in l or "OpenMP" in l) and "Build settings" not in l],
        "loadavg": os.getloadavg(), "steps": a.steps, "warmup": a.warmup, "density": DENSITY,
    }
    with open(a.out, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
