"""The TPrune chapter (notebooks/tprune.ipynb): line-wise structured pruning of a small
Transformer during training, with a measured CPU speed-up.

* :mod:`.experiment` — the experiment: :class:`~.experiment.TPruneSpec`, one seed as a cached
  task (kind ``tprune``), :func:`~.experiment.run` for a grid of seeds on any executor and
  :func:`~.experiment.plan`, every task the notebook computes at given parameters;
* :mod:`.guidance` — stage 1 (BSSL) read as the directions stage 2 penalises;
* :mod:`.paths` — the code paths a model is timed through (as sliced, per-head loop, heads
  padded to equal widths and batched), so dense and pruned models compare like for like;
* :mod:`.verdicts` — the numbers the claims are judged on (best model within an accuracy
  budget where the strength grids bracket it, BSSL direction gaps), the chapter's tables
  and its summary;
* :mod:`.claims` — the claims table as data, filled in with the chapter's knobs;
* :mod:`.figures` — the stage-1 and stage-2 figures.
"""
from .experiment import plan

__all__ = ["plan"]
