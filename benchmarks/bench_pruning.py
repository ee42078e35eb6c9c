"""Pruning-score cost per method on CIFAR-shaped VGG-16 and ResNet-20, and SynFlow's selection:
ours (exact count, only surviving weights compete) vs the reference's (a k-th value over all N
scores every round, keep score > threshold), with the masks compared.

    python benchmarks/bench_pruning.py [--quick] [--threads 2] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from pruninglib.config import ModelSpec, PruneSpec
from pruninglib.masks import full_mask
from pruninglib.models import build_model
from pruninglib.pruners import ScoringContext, prune
from pruninglib.pruners.scores import synflow_scorer
from pruninglib.pruners.selection import AliveWeights, kept_count, schedule_densities


def reference_style_global_mask(scores, density):
    """What the SynFlow reference does each round: threshold = kthvalue over *all* N scores
    (pruned ones included, at 0), keep score > threshold."""
    flat = torch.cat([s.reshape(-1) for s in scores.values()])
    k = int((1 - density) * flat.numel())
    threshold = torch.kthvalue(flat, k).values if k >= 1 else flat.min() - 1
    return {n: s > threshold for n, s in scores.items()}


def synflow_selection_comparison(model, input_shape, density, rounds):
    """Run SynFlow's rounds once (as ``pruners.prune`` does), timing the two selection rules on
    the same scores each round; count mask entries where they disagree (ties at the threshold,
    which the reference prunes all of and we fill to the exact count)."""
    ctx = ScoringContext(input_shape=input_shape)
    scorer = synflow_scorer(model, ctx, PruneSpec("synflow", density=density))
    survivors = AliveWeights(full_mask(model))
    mask = survivors.mask()
    total = sum(m.numel() for m in mask.values())
    score_s = ours_s = ref_s = 0.0
    differing = 0
    for d in schedule_densities(density, rounds, "exponential"):
        start = time.perf_counter()
        scores = scorer(mask)
        score_s += time.perf_counter() - start
        start = time.perf_counter()
        survivors.keep_global(scores, kept_count(d, total))
        mask = survivors.mask()
        ours_s += time.perf_counter() - start
        start = time.perf_counter()
        ref = reference_style_global_mask(scores, d)
        ref_s += time.perf_counter() - start
        differing += sum(int((mask[n] != ref[n]).sum()) for n in mask)
    return {"scoring_s": score_s, "selection_ours_s": ours_s, "selection_reference_s": ref_s,
            "selection_speedup": ref_s / ours_s, "weights": total,
            "mask_entries_differing_total": differing}


def time_methods(model, input_shape, num_classes, rounds):
    g = torch.Generator().manual_seed(0)
    x = torch.randn((10 * num_classes, *input_shape), generator=g)
    y = torch.arange(num_classes).repeat_interleave(10)
    ctx = ScoringContext(input_shape=input_shape, x=x, y=y, generator=g)
    out = {}
    for method in ("random", "magnitude", "snip", "grasp", "synflow"):
        spec = PruneSpec(method, density=0.01, iterations=rounds if method == "synflow" else 1)
        start = time.perf_counter()
        prune(model, spec, ctx)
        out[method] = time.perf_counter() - start
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="width 1/4 models, 20 rounds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    width, rounds = (0.25, 20) if args.quick else (1.0, 100)
    report = {"threads": args.threads, "width": width, "synflow_rounds": rounds, "models": {}}
    for name in ("vgg16", "resnet20"):
        torch.manual_seed(0)
        model = build_model(ModelSpec(name, width=width), (3, 32, 32), 10)
        entry = {"seconds_per_method": time_methods(model, (3, 32, 32), 10, rounds),
                 "synflow_selection": synflow_selection_comparison(model, (3, 32, 32), 0.01,
                                                                   rounds)}
        report["models"][name] = entry
        print(name, json.dumps(entry, indent=1), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
