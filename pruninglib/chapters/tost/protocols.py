"""Training protocols for a fixed mask, compared as in Jaiswal et al. 2022 (ToST).

A *protocol* is a set of spec changes applied to a pruned run; the mask does not depend on it
(masks are found on the plain network with the run's own seed), so the runs of one seed under
two protocols share their mask and initial weights and can be compared pairwise.

* :func:`protocol_changes`: the dotted spec changes (``RunSpec.replace``) of 'default', of one
  component ('ghost_neurons', 'ghost_skips', 'label_smoothing', 'fan_in', 'gradinit') or of
  'all' (the components of ToST's recipe together);
* :func:`changes_frame`: those changes as a table, one row per protocol;
* :func:`ghost_schedule`: the ghosts' state in every epoch (activation, the ghost-skip alpha
  at its first step and at its end: alpha falls at every step) of a run, as
  :mod:`pruninglib.tricks` applies them, and :func:`ghost_schedule_text`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ...config import ConfigError, RunSpec
from ...tricks import ghost_alpha, label_smoothing_for, smooth_active

COMPONENTS = ("ghost_neurons", "ghost_skips", "label_smoothing", "fan_in", "gradinit")
"""Every trick that can be tested alone."""

TOST_RECIPE = ("ghost_neurons", "ghost_skips", "label_smoothing", "gradinit")
"""ToST's four tricks (GradInit is its layer-wise rescaled sparse init, LRsI): the components
of protocol 'all' by default."""

OWN_COMPONENTS = ("fan_in",)
"""Tested beside ToST's tricks by this book, not part of ToST: the fan-in rescaling of the
sparse init is Hayou et al.'s trick."""

PROTOCOLS = ("default", *COMPONENTS, "all")

LABELS = {"default": "default", "ghost_neurons": "ghost neurons", "ghost_skips": "ghost skips",
          "label_smoothing": "label smoothing", "fan_in": "fan-in rescaling",
          "gradinit": "GradInit scales", "all": "all (ToST)"}


def protocol_changes(protocol: str, *, epochs: int, num_classes: int,
                     ghost_activation: str = "silu", ghost_fraction: float = 0.2,
                     label_smoothing: float = 0.1, gradinit_steps: int = 50,
                     recipe: Sequence[str] = TOST_RECIPE) -> dict:
    """Dotted spec changes of ``protocol`` (one of :data:`PROTOCOLS`) for a run of ``epochs``.

    ghost_fraction: the ghosts (smooth activation, ghost skips) are on for the first
        K = max(1, round(ghost_fraction * epochs)) epochs (the RunSpec refuses it if no epoch
        is left without them).
    label_smoothing: ToST's smoothing alpha (1 - alpha on the true class, alpha / (C - 1) on
        the others), converted with :func:`pruninglib.tricks.label_smoothing_for`.
    recipe: the components of 'all'.
    """
    if protocol not in PROTOCOLS:
        raise ConfigError(f"protocol={protocol!r} is not allowed: one of "
                          + ", ".join(PROTOCOLS))
    ghost_epochs = max(1, round(ghost_fraction * epochs))
    each = {
        "ghost_neurons": {"tost.ghost_activation": ghost_activation,
                          "tost.ghost_activation_epochs": ghost_epochs},
        "ghost_skips": {"tost.ghost_skip_epochs": ghost_epochs},
        "label_smoothing": {"train.label_smoothing": label_smoothing_for(label_smoothing,
                                                                         num_classes)},
        "fan_in": {"prune.rescale": "fan_in"},
        "gradinit": {"tost.gradinit_steps": gradinit_steps},
    }
    if protocol == "default":
        return {}
    if protocol == "all":
        unknown = sorted(set(recipe) - set(COMPONENTS))
        if unknown:
            raise ConfigError(f"recipe={list(recipe)!r} is not allowed: components among "
                              + ", ".join(COMPONENTS))
        return {k: v for component in recipe for k, v in each[component].items()}
    return each[protocol]


def changes_frame(changes: Mapping[str, dict]) -> pd.DataFrame:
    """One row per protocol of ``changes`` (protocol -> dotted spec changes): columns
    "protocol" (its label) and "spec changes" ("k = v; ..."; floats to 4 significant digits;
    "none" for the default)."""
    def text(change: dict) -> str:
        return "; ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                         for k, v in change.items()) or "none"

    return pd.DataFrame({"protocol": [LABELS[p] for p in changes],
                         "spec changes": [text(c) for c in changes.values()]})


def ghost_schedule(spec: RunSpec) -> pd.DataFrame:
    """The ghosts' state in every epoch of ``spec``'s training, as the training loop sets it:
    one row per epoch (1-based) with "activation" (the smooth one or "relu"), "alpha, first
    step" (the ghost branches' scale at the epoch's first step) and "alpha, end" (the value
    it falls to, step by step, by the epoch's end; 0 = removed)."""
    tost = spec.tost
    return pd.DataFrame([
        {"epoch": e,
         "activation": tost.ghost_activation if smooth_active(tost, e) else "relu",
         "alpha, first step": ghost_alpha(tost, e),
         "alpha, end": ghost_alpha(tost, e + 1)}  # where the next epoch starts
        for e in range(1, spec.train.epochs + 1)])


def ghost_schedule_text(schedule: pd.DataFrame) -> str:
    """One sentence on a :func:`ghost_schedule`: over how many epochs alpha falls, step by
    step, from 1 to 0, and when the ghost skips are removed."""
    on = schedule[schedule["alpha, first step"] > 0]
    epochs = len(schedule)
    if on.empty:
        return f"No ghost skips in these {epochs} epochs."
    k = len(on)
    span = "the first epoch" if k == 1 else f"the first {k} epochs"
    return (f"The ghost skips are on for {span} of {epochs}: alpha falls linearly at every "
            f"training step, from 1 at the first step to 0 at the end of epoch {k} "
            f"(alpha = 1 − t/{k} after t epochs of training, t counted in steps); from "
            f"epoch {k + 1} on they are removed.")
