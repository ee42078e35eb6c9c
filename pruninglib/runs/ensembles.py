"""Training runs in ensembles: a group of compatible runs trained as one batched model, each
stored under its own key as an ordinary run.

:func:`pruninglib.runs.experiments.run_all` (and ``sweep``) with ``ensemble=True`` hands each
group of missing runs that share data, model, training spec (hence the number of steps) and
use no ToST trick to one worker as a task of kind ``ensemble`` (computed by
:func:`compute_ensemble`). That worker claims every member in the run store (a member that is
stored, or claimed by another live worker, or has a checkpoint to resume, is left out of the
group), prunes each member alone exactly as :func:`~pruninglib.runs.experiments.run` does,
trains the members together with :func:`pruninglib.ensemble.train_ensemble`, and stores each
member's result under its own key. Caching, resuming and the executors then see ordinary
runs; the ``ensemble`` task's own record only lists the members it trained (and their
seconds, for the book's time accounting).

A member's numbers equal the same run trained alone up to float32 rounding, not bit for bit,
so ensembles are opt-in (``ensemble=True``): results computed without them stay reproducible.
A member's result records ``env.ensemble_size`` (the number of networks it was trained with);
it is not part of the run's identity, like the device and the thread count. Runs that cannot
join a group train alone, as without ``ensemble``.
"""
from __future__ import annotations

import contextlib
import time

from ..config import RunSpec
from ..ensemble import train_ensemble
from ..train import resolve_device
from .. import seeds
from .cache import Context, Output, load, store_for
from .experiments import dataset_for, prepare_network, run_output, run_task
from .networks import initial_network

ENSEMBLE_KIND = "ensemble"
MAX_MEMBERS = 16
"""Default largest group (memory grows with it; speed-ups flatten well before)."""


def compute_ensemble(spec: dict, context: Context) -> Output:
    """Compute function of an ``ensemble`` task: spec {"members": [RunSpec dicts], "weights":
    bool}. Trains the members this worker can claim together and stores each as a run."""
    runs = store_for("run", context.results_dir, stale_after=context.store.stale_after)
    weights = bool(spec.get("weights", False))
    members = [RunSpec.from_dict(m) for m in spec["members"]]
    dev = resolve_device(context.device)
    with contextlib.ExitStack() as stack:
        claimed = []
        for member in members:
            key = member.key()
            task = run_task(member, weights)
            if load(task, runs) is not None:
                continue
            claim = runs.try_claim(key)
            if claim is None:
                continue  # another live worker is computing it
            stack.enter_context(claim)
            if load(task, runs) is not None or runs.load_checkpoint(key) is not None:
                claim.release()  # stored meanwhile, or resumable alone from its checkpoint
                continue
            claimed.append((member, key, claim))
        if len(claimed) < 2:
            return Output({"members": [m.key() for m in members], "trained": [],
                           "metrics": {"prune_seconds": 0.0, "train_seconds": 0.0}})
        data = dataset_for(claimed[0][0], dev, context.data_root)
        models, masks, prune_seconds, before = [], [], [], []
        for member, _, _ in claimed:
            model = initial_network(member.model, data.input_shape, data.num_classes,
                                    member.seed, dev)
            mask, pruned, prepared = prepare_network(model, member, data, context.progress)
            models.append(model)
            masks.append(mask)
            prune_seconds.append(pruned)
            before.append(prepared)
        first = claimed[0][0]
        start = time.perf_counter()
        histories = train_ensemble(
            models, data, first.train,
            generators=[seeds.generator(m.seed, "batches") for m, _, _ in claimed],
            masks=masks, augment=first.data.augment, progress=context.progress,
            desc=f"ensemble of {len(claimed)} {first.model.name}")
        share = (time.perf_counter() - start) / len(claimed)
        trained = []
        for (member, key, claim), model, mask, history, pruned, prepared in zip(
                claimed, models, masks, histories, prune_seconds, before):
            output = run_output(member, key, model, mask, data, history, pruned,
                                prepared + share, dev, weights,
                                env={"ensemble_size": len(claimed)})
            if not claim.owned():
                continue  # taken over by another worker (we were thought dead): theirs counts
            runs.save(key, {**output.payload, "key": key}, output.weights)
            runs.clear_error(key)
            runs.clear_checkpoint(key)
            trained.append(key)
    return Output({"members": [m.key() for m in members], "trained": trained,
                   "metrics": {"prune_seconds": sum(prune_seconds),
                               "train_seconds": sum(before) + share * len(claimed)}})
