"""Training throughput on Fashion-MNIST (samples/s, median of repeats):

* ours: whole dataset as one tensor, seeded index batches (``pruninglib.train.train``),
* plain: the usual torchvision loop, ``FashionMNIST`` with ToTensor + Normalize through a
  ``DataLoader`` (batch 128, shuffled, no workers: workers fight for 2 cores, COMPUTE.md),
* ours with a 10 %-density mask (gradient and weight masking every step) vs without,
* threads: the same step with 1 and 2 torch threads, and two such processes at once.

    python benchmarks/bench_training.py [--steps 40] [--repeats 3] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from pruninglib.config import DataSpec, ModelSpec, PruneSpec, TrainSpec
from pruninglib.data import default_data_root, load_data
from pruninglib.models import build_model
from pruninglib.pruners import ScoringContext, prune
from pruninglib.train import train

MODELS = {"lenet_300_100": {}, "conv4": {"width": 0.25}, "vgg11": {"width": 0.25},
          "resnet20": {}}


def _model(name, fields, data):
    torch.manual_seed(0)
    return build_model(ModelSpec(name, **fields), data.input_shape, data.num_classes)


def ours(name, fields, steps, mask_density=None):
    """Samples/s of pruninglib.train on ``steps`` batches of 128 (one pseudo-epoch)."""
    data = load_data(DataSpec("fashion_mnist", train_subset=steps * 128, test_subset=128))
    model = _model(name, fields, data)
    mask = None
    if mask_density is not None:
        ctx = ScoringContext(input_shape=data.input_shape, generator=torch.Generator())
        mask = prune(model, PruneSpec("random", density=mask_density), ctx)
    spec = TrainSpec(epochs=1, batch_size=128)
    start = time.perf_counter()  # the timed epoch includes a 128-image evaluation (negligible)
    train(model, data, spec, generator=torch.Generator().manual_seed(0), mask=mask,
          progress=False)
    return steps * 128 / (time.perf_counter() - start)


def plain(name, fields, steps):
    """Samples/s of the standard torchvision DataLoader loop on the same model."""
    from torchvision import datasets, transforms

    data = load_data(DataSpec("fashion_mnist", test_subset=128))
    model = _model(name, fields, data)
    dataset = datasets.FashionMNIST(str(default_data_root()), train=True, download=False,
                                    transform=transforms.Compose([
                                        transforms.ToTensor(),
                                        transforms.Normalize((0.2860,), (0.3530,))]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True, num_workers=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    start = time.perf_counter()
    for step, (x, y) in enumerate(loader):
        if step == steps:
            break
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return steps * 128 / (time.perf_counter() - start)


def median_of(repeats, fn, *args):
    return statistics.median(fn(*args) for _ in range(repeats))


THREAD_PROBE = """
import sys, time, torch
from pruninglib.config import ModelSpec
from pruninglib.models import build_model
torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)
model = build_model(ModelSpec("resnet20", width=0.5), (1, 28, 28), 10)
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))
for i in range(13):
    if i == 3:
        start = time.perf_counter()
    opt.zero_grad(); torch.nn.functional.cross_entropy(model(x), y).backward(); opt.step()
print((time.perf_counter() - start) / 10 * 1000)
"""


def thread_probe(threads, processes):
    """ms per ResNet-20 (width 0.5) step with ``threads`` each, ``processes`` at once."""
    procs = [subprocess.Popen([sys.executable, "-c", THREAD_PROBE, str(threads)],
                              stdout=subprocess.PIPE, text=True) for _ in range(processes)]
    return statistics.mean(float(p.communicate()[0]) for p in procs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(2)
    report = {"steps": args.steps, "batch": 128, "models": {}}
    for name, fields in MODELS.items():
        row = {"ours": median_of(args.repeats, ours, name, fields, args.steps),
               "plain_dataloader": median_of(args.repeats, plain, name, fields, args.steps),
               "ours_masked_10pct": median_of(args.repeats, ours, name, fields, args.steps, 0.1)}
        row["speedup_vs_plain"] = row["ours"] / row["plain_dataloader"]
        row["masked_overhead"] = row["ours"] / row["ours_masked_10pct"] - 1
        report["models"][name] = row
        print(name, {k: round(v, 3) for k, v in row.items()}, flush=True)
    report["threads_ms_per_step"] = {
        "1 thread, 1 process": thread_probe(1, 1), "2 threads, 1 process": thread_probe(2, 1),
        "1 thread each, 2 processes": thread_probe(1, 2),
        "2 threads each, 2 processes (oversubscribed)": thread_probe(2, 2),
        "4 threads each, 2 processes (oversubscribed)": thread_probe(4, 2)}
    print(json.dumps(report["threads_ms_per_step"], indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
