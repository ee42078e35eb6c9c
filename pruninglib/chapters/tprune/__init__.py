"""The TPrune chapter (notebooks/tprune.ipynb): line-wise structured pruning of a small
Transformer during training, with a measured CPU speed-up.

* :mod:`.experiment` — the experiment: :class:`~.experiment.TPruneSpec`, one seed as a cached
  task (kind ``tprune``) and :func:`~.experiment.run` for a grid of seeds on any executor;
* :mod:`.verdicts` — the numbers the claims are judged on (best model within an accuracy
  budget, BSSL direction gaps), the chapter's tables and its summary;
* :mod:`.claims` — the claims table as data, filled in with the chapter's knobs;
* :mod:`.figures` — the stage-1 and stage-2 figures.
"""
