"""Layer similarities of stored networks to a reference network, one cached task per network.

:func:`drift_of` gives :func:`pruninglib.analysis.drift.drift_frame` of every network against
its reference, on the test images of a data spec. Each network's rows are a cached task of
kind ``drift`` (``<results>/drift/``), keyed by the reference's and the network's specs (see
:func:`pruninglib.chapters.pruning_similarity.finetune.tagged`), the data, the measures and
the conv convention; networks that are not stored yet are trained first, through the cache.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...analysis.drift import drift_frame
from ...config import DataSpec, section_dict
from ...data import load_data_once
from ...runs.cache import Context, Output, Task
from ...runs.executors import execute
from .finetune import Spec, describe, load_trained, spec_from_tagged, tagged

DRIFT_KIND = "drift"
_FORMAT = 2  # bump when the stored rows change (2: describe() gives the fine-tuning recipe)


def drift_task(reference: Spec, network: Spec, data: DataSpec, *,
               measures: Sequence[str] = ("svcca", "pwcca", "cka"),
               conv: str = "average") -> Task:
    """The cached task of one network's layer similarities to ``reference`` (kind ``drift``)."""
    spec = {"format": _FORMAT, "reference": tagged(reference), "network": tagged(network),
            "data": section_dict(data), "measures": list(measures), "conv": conv}
    return Task.make(DRIFT_KIND, spec, compute_drift)


def compute_drift(spec: dict, context: Context) -> Output:
    """Compute function of :func:`drift_task`: the drift frame's rows of one network (one
    per representation layer and measure), with :func:`describe`'s identifying columns."""
    reference, network = spec_from_tagged(spec["reference"]), spec_from_tagged(spec["network"])
    options = {"results_dir": context.results_dir, "device": context.device,
               "data_root": context.data_root}
    images = load_data_once(DataSpec(**spec["data"]), root=context.data_root).test_x
    frame = drift_frame(load_trained(reference, **options)[0],
                        [(describe(network), load_trained(network, **options)[0])], images,
                        measures=spec["measures"], conv=spec["conv"])
    return Output({"rows": frame.to_dict("records")})


def drift_of(pairs: Sequence[tuple[Spec, Spec]], data: DataSpec, *,
             measures: Sequence[str] = ("svcca", "pwcca", "cka"), conv: str = "average",
             executor=None, results_dir=None, device="cpu", data_root=None,
             progress: bool = False) -> pd.DataFrame:
    """:func:`pruninglib.analysis.drift.drift_frame` of the trained network of every
    (reference, network) pair, on the test images of ``data``: :func:`describe`'s identifying
    columns of the network, then ``reference`` (the reference's seed), in the order of
    ``pairs``; each pair's rows computed on ``executor`` unless stored (:func:`drift_task`)."""
    tasks = [drift_task(reference, network, data, measures=measures, conv=conv)
             for reference, network in pairs]
    payloads = execute(tasks, executor=executor, progress=progress, results_dir=results_dir,
                       device=device, data_root=data_root)
    frames = [pd.DataFrame(payload["rows"]).assign(reference=reference.seed)
              for (reference, _), payload in zip(pairs, payloads)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
