"""The Ramanujan-graph chapter (Hoang et al. 2023; Cunegatti et al.'s counter-claim): do a
mask's graph metrics rank the pruning methods as their accuracies do?

* :mod:`.sweep` — the training grid from the chapter's parameters, its cached tasks, run on
  any executor;
* :mod:`.mask_graphs` — the Ramanujan metrics of every run's mask and of its layer-shuffled
  twin (one cached task per run), per layer and per network, and each layer's share of the
  weights;
* :mod:`.correlations` — rank correlations of accuracy with each metric across methods, per
  density (all masks, or those that train), and the authors' table in the same columns;
* :mod:`.measures` — the within-density comparisons of R2–R4 (random against found masks);
* :mod:`.verdicts` — every claim's value per model and seed, for ours and the authors' data;
* :mod:`.claims` — the claims table as data, with scale, paper's number and calibration;
* :mod:`.tables` — the notebook's tables and computed text;
* :mod:`.report` — the numbers its exercises quote and the tables it offers for download;
* :mod:`.figures` — its figures;
* :mod:`.tasks` — :func:`plan`, every cached task of the notebook at given parameters.
"""
from .tasks import plan

__all__ = ["plan"]
