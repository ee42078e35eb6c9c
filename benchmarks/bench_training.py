"""Training throughput on Fashion-MNIST (samples/s, median of repeats), each ratio against its
baseline measured in the same run, the two taken in turn (A B A B ...):

* ensemble: M networks trained together by ``pruninglib.ensemble.train_ensemble`` against the
  same M networks trained one after the other by ``pruninglib.train.train`` (15 x LeNet-300-100,
  6 x Conv-4 at width 1/4, 15 x the tanh MLP of width 100 and depth 20), each with its own
  10 %-density random mask;
* ensemble ceiling: the time of one member's own forward and backward matrix products
  (LeNet-300-100, batch 128, bare tensors: no optimiser, data, loss or mask) against the same
  member's whole training step alone: the most any ensemble could gain if every other cost of
  a step vanished, since the members' products cannot be shared (each has its own batch);
* layout: float32 with channels-last tensors, and bfloat16 autocast with channels-last tensors,
  each against float32 with the default layout (VGG-11 at width 1/4, ResNet-20, Conv-4 at its
  published width), through ``pruninglib.train.train`` (``TrainSpec.channels_last``);
* mask overhead: ``train`` with a 10 %-density mask (gradients masked every step) against
  ``train`` without one, per step (200 LeNet steps, so that the one-off setup is negligible,
  and at least 5 pairs: the effect is smaller than the noise of 2 pairs);
* (full run only) ours against the usual torchvision loop (``FashionMNIST`` + ToTensor +
  Normalize through a ``DataLoader``, no workers), and the thread probe.

    python benchmarks/bench_training.py [--quick] [--threads 1] [--repeats 3] [--clock wall|cpu]
        [--out FILE.json]

The last line printed is one JSON object: {"ensemble_speedup": {...}, "ensemble_ceiling":
{...}, "bf16_speedup": {...}, "channels_last_speedup": {...}, "mask_overhead": {...}} (ratios:
> 1 is faster; overhead: the masked step's extra time).
``--quick`` (a few steps per measurement) finishes in well under two minutes on 2 idle cores.
"""
from __future__ import annotations

import argparse
import copy
import functools
import json
import statistics
import subprocess
import sys
import time
from functools import partial

import torch
import torch.nn.functional as F

from pruninglib.config import DataSpec, ModelSpec, PruneSpec, TrainSpec
from pruninglib.data import default_data_root, load_data
from pruninglib.ensemble import train_ensemble
from pruninglib.models import build_model
from pruninglib.pruners import ScoringContext, prune
from pruninglib.train import train

MODELS = {"lenet_300_100": ("lenet_300_100", {}), "conv4": ("conv4", {"width": 0.25}),
          "conv4_x1": ("conv4", {"width": 1.0}), "vgg11": ("vgg11", {"width": 0.25}),
          "resnet20": ("resnet20", {}),
          "mlp": ("mlp", {"hidden": (100,) * 20, "activation": "tanh"})}
"""label -> (model name, ModelSpec fields). mlp: the tanh MLP of width 100 and depth 20 of the
Edge-of-Chaos experiments; conv4_x1: Conv-4 at its published width (the Ramanujan chapter's)."""
CLOCK = [time.perf_counter]
"""The clock of every measurement: wall time (default), or with ``--clock cpu`` this
process's CPU time, which a machine shared with other jobs inflates far less (one thread)."""

ENSEMBLES = {"lenet_300_100": 15, "conv4": 6, "mlp": 15}
LAYOUT_MODELS = ("vgg11", "resnet20", "conv4_x1")
MASK_MODELS = ("lenet_300_100", "conv4")


@functools.cache
def _data(steps: int, batch: int = 128):
    return load_data(DataSpec("fashion_mnist", train_subset=steps * batch, test_subset=batch))


def _model(label, data, seed=0):
    name, fields = MODELS[label]
    torch.manual_seed(seed)
    return build_model(ModelSpec(name, **fields), data.input_shape, data.num_classes)


def _mask(model, data, density, seed=0):
    ctx = ScoringContext(input_shape=data.input_shape,
                         generator=torch.Generator().manual_seed(seed))
    return prune(model, PruneSpec("random", density=density), ctx)


def ours(label, steps, mask_density=None, bf16=False, channels_last=False):
    """Samples/s of pruninglib.train on ``steps`` batches of 128 (one pseudo-epoch; the timed
    epoch includes a 128-image evaluation, negligible)."""
    data = _data(steps)
    model = _model(label, data)
    mask = None if mask_density is None else _mask(model, data, mask_density)
    spec = TrainSpec(epochs=1, batch_size=128, bf16=bf16, channels_last=channels_last)
    start = CLOCK[0]()
    train(model, data, spec, generator=torch.Generator().manual_seed(0), mask=mask,
          progress=False)
    return steps * 128 / (CLOCK[0]() - start)


def one_at_a_time_and_ensemble(label, members, steps):
    """Samples/s of ``members`` masked networks trained one after the other, and together."""
    data = _data(steps)
    models = [_model(label, data, seed) for seed in range(members)]
    masks = [_mask(m, data, 0.1, seed) for seed, m in enumerate(models)]
    spec = TrainSpec(epochs=1, batch_size=128)

    def alone():
        start = CLOCK[0]()
        for seed, (m, mask) in enumerate(zip(models, masks)):
            train(copy.deepcopy(m), data, spec, generator=torch.Generator().manual_seed(seed),
                  mask=mask, progress=False)
        return members * steps * 128 / (CLOCK[0]() - start)

    def together():
        start = CLOCK[0]()
        train_ensemble([copy.deepcopy(m) for m in models], data, spec,
                       generators=[torch.Generator().manual_seed(s) for s in range(members)],
                       masks=masks, progress=False)
        return members * steps * 128 / (CLOCK[0]() - start)
    return alone, together


def lenet_products(steps):
    """Samples/s of LeNet-300-100's forward and backward matrix products alone (batch 128,
    bias adds and ReLUs included; no optimiser, data, loss or mask): one member's floor."""
    generator = torch.Generator().manual_seed(0)
    shapes = [(784, 300), (300, 100), (100, 10)]
    weights = [torch.randn(a, b, generator=generator).mul_(a ** -0.5).requires_grad_()
               for a, b in shapes]
    biases = [torch.zeros(b, requires_grad=True) for _, b in shapes]
    x = torch.randn(128, 784, generator=generator)
    start = CLOCK[0]()
    for _ in range(steps):
        h = x
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = torch.addmm(b, h, w)
            h = h.relu() if i < len(weights) - 1 else h
        h.sum().backward()
    return steps * 128 / (CLOCK[0]() - start)


def paired(repeats, baseline, candidate):
    """Baseline and candidate in turn, ``repeats`` pairs after one untimed pair (first-call
    costs: kernels chosen, buffers allocated); medians and the median of the pair-by-pair
    ratios (candidate / baseline samples/s)."""
    baseline()
    candidate()
    base, cand, ratios = [], [], []
    for _ in range(repeats):
        b = baseline()
        c = candidate()
        base.append(b)
        cand.append(c)
        ratios.append(c / b)
    return {"baseline": statistics.median(base), "candidate": statistics.median(cand),
            "ratio": statistics.median(ratios), "ratios": ratios}


def plain(label, steps):
    """Samples/s of the standard torchvision DataLoader loop on the same model."""
    from torchvision import datasets, transforms

    data = load_data(DataSpec("fashion_mnist", test_subset=128))
    model = _model(label, data)
    dataset = datasets.FashionMNIST(str(default_data_root()), train=True, download=False,
                                    transform=transforms.Compose([
                                        transforms.ToTensor(),
                                        transforms.Normalize((0.2860,), (0.3530,))]))
    loader = torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True, num_workers=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    start = CLOCK[0]()
    for step, (x, y) in enumerate(loader):
        if step == steps:
            break
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return steps * 128 / (CLOCK[0]() - start)


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
    parser.add_argument("--quick", action="store_true",
                        help="few steps per measurement, no DataLoader or thread comparison")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per measurement (default 40; --quick: 8, 3 for conv "
                             "nets; the mask overhead: 200 for LeNet, 10 for Conv-4)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed pairs per ratio (default 3; --quick: 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: the pool's per-worker setting on 2 cores)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time, or this process's CPU time (for a loaded machine)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.clock == "cpu":
        CLOCK[0] = time.process_time
    steps = args.steps or (8 if args.quick else 40)
    conv_steps = args.steps or (3 if args.quick else 40)
    mask_steps = {"lenet_300_100": args.steps or 200,
                  "conv4": args.steps or (10 if args.quick else 40)}

    ours("lenet_300_100", 1)  # one-time costs (torch imports its compiler stack on the first
    # optimiser) before anything is timed
    repeats = args.repeats or (2 if args.quick else 3)
    mask_repeats = max(repeats, 5)  # a 10 % effect needs more pairs than the others
    report = {"threads": args.threads, "batch": 128, "quick": args.quick, "repeats": repeats,
              "clock": args.clock}

    def steps_for(label):
        return steps if MODELS[label][0] in ("lenet_300_100", "mlp") else conv_steps

    ensemble = {}
    for label, members in ENSEMBLES.items():
        alone, together = one_at_a_time_and_ensemble(label, members, steps_for(label))
        ensemble[label] = {"members": members, **paired(repeats, alone, together)}
        print("ensemble", label, json.dumps(ensemble[label]), flush=True)
    ceiling = {"lenet_300_100": paired(
        repeats, partial(ours, "lenet_300_100", steps, mask_density=0.1),
        partial(lenet_products, steps))}
    print("ensemble ceiling lenet_300_100", json.dumps(ceiling["lenet_300_100"]), flush=True)
    layout = {"channels_last": {}, "bf16": {}}
    for label in LAYOUT_MODELS:
        n = steps_for(label)
        layout["channels_last"][label] = paired(
            repeats, partial(ours, label, n), partial(ours, label, n, channels_last=True))
        print("float32 channels_last", label, json.dumps(layout["channels_last"][label]),
              flush=True)
        layout["bf16"][label] = paired(
            repeats, partial(ours, label, n),
            partial(ours, label, n, bf16=True, channels_last=True))
        print("bf16+channels_last", label, json.dumps(layout["bf16"][label]), flush=True)
    masks = {}
    for label in MASK_MODELS:
        n = mask_steps[label]
        masks[label] = paired(mask_repeats, partial(ours, label, n),
                              partial(ours, label, n, mask_density=0.1))
        print("mask", label, json.dumps(masks[label]), flush=True)
    report.update(ensemble=ensemble, ensemble_ceiling=ceiling, layout=layout, mask=masks)
    if not args.quick:
        report["vs_plain_dataloader"] = {
            label: paired(repeats, partial(plain, label, steps), partial(ours, label, steps))
            for label in ("lenet_300_100", "conv4", "vgg11", "resnet20")}
        report["threads_ms_per_step"] = {
            "1 thread, 1 process": thread_probe(1, 1),
            "2 threads, 1 process": thread_probe(2, 1),
            "1 thread each, 2 processes": thread_probe(1, 2),
            "2 threads each, 2 processes (oversubscribed)": thread_probe(2, 2),
            "4 threads each, 2 processes (oversubscribed)": thread_probe(4, 2)}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    summary = {"ensemble_speedup": {k: round(v["ratio"], 3) for k, v in ensemble.items()},
               "ensemble_ceiling": {k: round(v["ratio"], 3) for k, v in ceiling.items()},
               "bf16_speedup": {k: round(v["ratio"], 3) for k, v in layout["bf16"].items()},
               "channels_last_speedup": {k: round(v["ratio"], 3)
                                         for k, v in layout["channels_last"].items()},
               "mask_overhead": {k: round(1 / v["ratio"] - 1, 3) for k, v in masks.items()}}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
