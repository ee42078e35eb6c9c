"""Small hand-made frames of the similarity chapter, shared by its tests."""
from __future__ import annotations

import pandas as pd

from pruninglib.analysis.drift import position_means

MODEL = "lenet_300_100"


def toy_drift():
    """A drift frame and its position means: 2 models, 3 layers, control seeds 1-2, the three
    variants at two densities (magnitude) or one (the others), 2 seeds."""
    rows = [{"model.name": m, "variant": v, "density": d, "seed": s, "layer_index": i,
             "neurons": 8 >> i, "measure": "svcca", "similarity": 0.9 - 0.1 * i - (1 - d) / 4}
            for m in ("lenet_300_100", "vgg11")
            for v, densities, seeds in (("dense", [1.0], [1, 2]),
                                        ("magnitude", [0.5, 0.1], [0, 1]),
                                        ("reinit", [0.1], [0, 1]), ("random", [0.1], [0, 1]))
            for d in densities for s in seeds for i in range(3)]
    sim = pd.DataFrame(rows)
    summary = position_means(sim, ["model.name", "variant", "density", "seed"])
    return sim, summary.assign(test_accuracy=0.8)


def _network(variant, density, seed, layers, accuracy):
    """The drift rows (svcca, 4 layers) and the run row of one network."""
    drift = [{"model.name": MODEL, "variant": variant, "density": density, "seed": seed,
              "layer_index": i, "neurons": 10, "measure": "svcca", "similarity": value}
             for i, value in enumerate(layers)]
    run = {"model.name": MODEL, "variant": variant, "density": density, "seed": seed,
           "test_accuracy": accuracy}
    return drift, run


def toy_study():
    """(sim, runs) of one model with 4 layers (first, two middle, last), seeds 0-2:

    control (dense seeds 1, 2): middle means 0.6 and 0.5 (control 0.55), accuracy 0.89;
    reference (dense seed 0): accuracy 0.90;
    pruned + fine-tuned at 0.5: middle 0.85; at 0.1: middle 0.50, 0.51, 0.52, ends 0.9,
    accuracy 0.885, 0.895, 0.875; random at 0.1: 0.86; re-initialised at 0.1: 0.87.
    """
    networks = [_network("dense", 1.0, 0, [], 0.90),
                _network("dense", 1.0, 1, [0.9, 0.5, 0.7, 0.8], 0.89),
                _network("dense", 1.0, 2, [0.9, 0.4, 0.6, 0.8], 0.89)]
    for seed, accuracy in zip(range(3), (0.885, 0.895, 0.875)):
        middle = 0.5 + 0.01 * seed
        networks += [_network("magnitude", 0.5, seed, [0.95, 0.9, 0.8, 0.9], 0.89),
                     _network("magnitude", 0.1, seed, [0.9, middle, middle, 0.9], accuracy),
                     _network("random", 0.1, seed, [0.8, 0.4, 0.4, 0.7], 0.86),
                     _network("reinit", 0.1, seed, [0.8, 0.45, 0.45, 0.7], 0.87)]
    sim = pd.DataFrame([row for drift, _ in networks for row in drift])
    runs = pd.DataFrame([run for _, run in networks])
    return sim, runs
