"""Pruning-score cost per method on CIFAR-shaped VGG-16 and ResNet-20; SynFlow's selection,
ours (exact count, only surviving weights compete) against a reference-style re-implementation
of the reference's rule (a k-th value over all N scores every round, keep score > threshold),
with the masks compared; and the whole SynFlow call (100 rounds, VGG-16 with BatchNorm at
3x32x32, density 0.1, the same initial weights): today's float64 scorer against the float32
one and, with ``--reference-dir``, against the reference's own ``prune_loop`` (a checkout of
ganguli-lab/Synaptic-Flow outside this repository; its code is imported from there, never
copied here).

    python benchmarks/bench_pruning.py [--quick] [--threads 2] [--out FILE.json]
        [--reference-dir PATH] [--call-repeats 1]
    python benchmarks/bench_pruning.py --only {float64,float32,reference} [--quick] ...
        (one whole SynFlow call and nothing else, e.g. to time processes from outside)
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
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


SYNFLOW_CALL = {"model": "vgg16", "input_shape": (3, 32, 32), "density": 0.1, "rounds": 100}


def _vgg16(width):
    torch.manual_seed(0)
    return build_model(ModelSpec("vgg16", width=width), SYNFLOW_CALL["input_shape"], 10)


def ours_synflow_call(width, rounds, precision):
    """Seconds and mask of one ``pruners.prune`` SynFlow call (the call a user makes)."""
    model = _vgg16(width)
    ctx = ScoringContext(input_shape=SYNFLOW_CALL["input_shape"])
    spec = PruneSpec("synflow", density=SYNFLOW_CALL["density"], iterations=rounds)
    start = time.perf_counter()
    mask = prune(model, spec, ctx, synflow_precision=precision)
    return time.perf_counter() - start, {n: m.clone() for n, m in mask.items()}


def reference_synflow_call(width, rounds, reference_dir):
    """Seconds and mask of the reference's ``prune_loop`` with its ``SynFlow`` pruner on its
    ``vgg16_bn`` (global scope, exponential schedule), loaded with our initial weights."""
    sys.path.insert(0, str(reference_dir))
    from Models import lottery_vgg
    from Pruners.pruners import SynFlow
    from Utils.generator import masked_parameters
    from prune import prune_loop

    if width != 1.0:
        lottery_vgg._plan = lambda num, plan=lottery_vgg._plan: [
            c if c == "M" else max(1, round(c * width)) for c in plan(num)]
    ours = _vgg16(width)
    model = lottery_vgg.vgg16_bn(SYNFLOW_CALL["input_shape"], 10)
    if width != 1.0:
        fc = model.fc
        model.fc = type(fc)(ours.classifier.in_features, 10)
    theirs = list(model.parameters())
    mine = list(ours.parameters())
    assert [p.shape for p in theirs] == [p.shape for p in mine], "layouts differ"
    with torch.no_grad():
        for p, q in zip(theirs, mine):
            p.copy_(q)
    pruner = SynFlow(masked_parameters(model))
    loader = [(torch.zeros(1, *SYNFLOW_CALL["input_shape"]), torch.zeros(1))]
    start = time.perf_counter()
    try:
        prune_loop(model, None, pruner, loader, "cpu", SYNFLOW_CALL["density"],
                   "exponential", "global", rounds)
    except SystemExit:  # its exact-count check quit()s when ties left the count short
        pass
    seconds = time.perf_counter() - start
    return seconds, [m.bool().clone() for m, _ in pruner.masked_parameters]


def synflow_call_comparison(width, rounds, reference_dir, repeats):
    """The whole SynFlow call, the variants in turn (A B C A B C ...) on the same initial
    weights; seconds per call (median) and mask entries that differ from today's float64."""
    variants = ["float64", "float32"] + (["reference"] if reference_dir else [])
    seconds = {v: [] for v in variants}
    masks = {}
    for _ in range(repeats):
        for v in variants:
            if v == "reference":
                t, m = reference_synflow_call(width, rounds, reference_dir)
            else:
                t, m = ours_synflow_call(width, rounds, v)
                m = list(m.values())
            seconds[v].append(t)
            masks[v] = m
    out = {"model": f"vgg16 (BatchNorm) width {width}", "density": SYNFLOW_CALL["density"],
           "rounds": rounds, "seconds": {v: statistics.median(t) for v, t in seconds.items()},
           "all_seconds": seconds}
    base = masks["float64"]
    total = sum(m.numel() for m in base)
    out["weights"] = total
    out["kept"] = {v: int(sum(int(x.sum()) for x in m)) for v, m in masks.items()}
    out["mask_entries_differing_from_float64"] = {
        v: int(sum(int((a != b).sum()) for a, b in zip(base, m))) for v, m in masks.items()
        if v != "float64"}
    out["speedup_float32_vs_float64"] = out["seconds"]["float64"] / out["seconds"]["float32"]
    if reference_dir:
        for v in ("float64", "float32"):
            out[f"speedup_{v}_vs_reference"] = out["seconds"]["reference"] / out["seconds"][v]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="width 1/4 models, 20 rounds (method table and SynFlow call)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reference-dir", default=None,
                        help="a checkout of ganguli-lab/Synaptic-Flow (outside this repository)")
    parser.add_argument("--call-repeats", type=int, default=1)
    parser.add_argument("--only", choices=["float64", "float32", "reference"], default=None,
                        help="time one whole SynFlow call of this variant and exit")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    width, rounds = (0.25, 20) if args.quick else (1.0, 100)
    if args.only == "reference" and not args.reference_dir:
        parser.error("--only reference needs --reference-dir (a Synaptic-Flow checkout)")
    if args.only:
        if args.only == "reference":
            seconds, _ = reference_synflow_call(width, rounds, args.reference_dir)
        else:
            seconds, _ = ours_synflow_call(width, rounds, args.only)
        print(json.dumps({"variant": args.only, "seconds": seconds}))
        return
    report = {"threads": args.threads, "width": width, "synflow_rounds": rounds, "models": {}}
    for name in ("vgg16", "resnet20"):
        torch.manual_seed(0)
        model = build_model(ModelSpec(name, width=width), (3, 32, 32), 10)
        entry = {"seconds_per_method": time_methods(model, (3, 32, 32), 10, rounds),
                 "synflow_selection": synflow_selection_comparison(model, (3, 32, 32), 0.01,
                                                                   rounds)}
        report["models"][name] = entry
        print(name, json.dumps(entry, indent=1), flush=True)
    report["synflow_call"] = synflow_call_comparison(width, rounds, args.reference_dir,
                                                     args.call_repeats)
    print("synflow_call", json.dumps(report["synflow_call"], indent=1), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
