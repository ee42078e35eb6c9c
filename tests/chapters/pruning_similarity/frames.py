"""Small hand-made frames of the similarity chapter, shared by its tests."""
from __future__ import annotations

import pandas as pd

from pruninglib.analysis.drift import position_means

MODEL = "lenet_300_100"


def toy_drift():
    """A drift frame and its position means: 2 models, 3 layers, references 0-1 (the dense
    network of the other seed is each one's control), the variants at two densities
    (magnitude, main recipe) or one (the others), seed = reference."""
    rows = [{"model.name": m, "reference": r, "variant": v, "density": d, "seed": s,
             "finetune_epochs": int(v == "magnitude"), "finetune_lr": 0.01 * (v == "magnitude"),
             "layer_index": i, "neurons": 8 >> i, "measure": "svcca",
             "similarity": 0.9 - 0.1 * i - (1 - d) / 4}
            for m in ("lenet_300_100", "vgg11") for r in (0, 1)
            for v, densities in (("dense", [1.0]), ("magnitude", [0.5, 0.1]), ("reinit", [0.1]),
                                 ("random", [0.1]), ("uniform", [0.1]))
            for d in densities for s in ([1 - r] if v == "dense" else [r]) for i in range(3)]
    sim = pd.DataFrame(rows)
    summary = position_means(sim, ["model.name", "reference", "variant", "density", "seed",
                                   "finetune_epochs", "finetune_lr"])
    return sim, summary.assign(test_accuracy=0.8)


def _pair(reference, variant, density, seed, layers, epochs=0, lr=0.0):
    """The drift rows of one compared pair: svcca = ``layers``, cka = svcca + 0.2 for a pruned
    network and + 0.1 for any other (4 layers: first, two middle, last)."""
    offset = {"svcca": 0.0, "cka": 0.2 if variant == "magnitude" else 0.1}
    return [{"model.name": MODEL, "reference": reference, "variant": variant,
             "density": density, "seed": seed, "finetune_epochs": epochs, "finetune_lr": lr,
             "layer_index": i, "neurons": 10, "measure": measure,
             "similarity": value + offset[measure]}
            for measure in offset for i, value in enumerate(layers)]


def _run(variant, density, seed, accuracy, epochs=0, lr=0.0):
    return {"model.name": MODEL, "variant": variant, "density": density, "seed": seed,
            "finetune_epochs": epochs, "finetune_lr": lr, "test_accuracy": accuracy}


CONTROL = {frozenset({0, 1}): [0.9, 0.5, 0.7, 0.8], frozenset({0, 2}): [0.9, 0.4, 0.6, 0.8],
           frozenset({1, 2}): [0.8, 0.5, 0.5, 0.8]}
"""SVCCA of the dense pairs (symmetric): middle 0.6, 0.5, 0.5; ends minus middle 0.25, 0.35,
0.3. Reference 0's control: middle 0.55, ends minus middle 0.30; reference 1's: 0.55, 0.275;
reference 2's: 0.5, 0.325."""


def toy_study():
    """(sim, runs) of one model with 4 layers, references 0-2 (seed r = reference r):

    dense r: accuracy 0.90, 0.91, 0.89; control pairs :data:`CONTROL`;
    pruned + fine-tuned (1 ep at lr 0.01) at 0.5: middle 0.85, accuracy 0.89; at 0.1: first
    and last 0.9, middle 0.50, 0.51, 0.47, accuracy 0.885, 0.890, 0.875;
    pruned with 5 ep at lr 0.01 at 0.1: middle 0.45, accuracy 0.895;
    at 0.1 from scratch: random 0.86, uniform 0.80, re-initialised 0.87.
    """
    drift, runs = [], []
    for r, accuracy in enumerate((0.90, 0.91, 0.89)):
        runs.append(_run("dense", 1.0, r, accuracy))
        for s in range(3):
            if s != r:
                drift += _pair(r, "dense", 1.0, s, CONTROL[frozenset({r, s})])
    for r, (middle, accuracy) in enumerate(zip((0.50, 0.51, 0.47), (0.885, 0.890, 0.875))):
        tuned = {"epochs": 1, "lr": 0.01}
        drift += _pair(r, "magnitude", 0.5, r, [0.95, 0.9, 0.8, 0.9], **tuned)
        drift += _pair(r, "magnitude", 0.1, r, [0.9, middle, middle, 0.9], **tuned)
        drift += _pair(r, "magnitude", 0.1, r, [0.9, 0.45, 0.45, 0.9], epochs=5, lr=0.01)
        runs += [_run("magnitude", 0.5, r, 0.89, **tuned),
                 _run("magnitude", 0.1, r, accuracy, **tuned),
                 _run("magnitude", 0.1, r, 0.895, epochs=5, lr=0.01)]
        for variant, accuracy, layers in (("random", 0.86, [0.8, 0.4, 0.4, 0.7]),
                                          ("uniform", 0.80, [0.7, 0.3, 0.3, 0.6]),
                                          ("reinit", 0.87, [0.8, 0.45, 0.45, 0.7])):
            drift += _pair(r, variant, 0.1, r, layers)
            runs.append(_run(variant, 0.1, r, accuracy))
    return pd.DataFrame(drift), pd.DataFrame(runs)
