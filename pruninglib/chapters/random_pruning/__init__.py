"""Random-sparse parity and the NTK of randomly pruned networks (notebook
``random_pruning.ipynb``).

* :mod:`.parity` — the training runs (found, shuffled and re-initialised PaI masks, random
  masks with data-free layer densities, the width experiment), their labels, paired
  differences and tables;
* :mod:`.after_training` — Blakeney et al.'s comparison: magnitude pruning of the trained
  network (fine-tuned) against random masks and its re-initialised mask trained from scratch
  (cached tasks, kind ``after_training``);
* :mod:`.ntk_study` — the cached sweep of NTK cells (widths × keep probabilities × seeds) and
  its power-law fits;
* :mod:`.claims` — the claims table as data (claims, checks, not measured) filled in from the
  parameters; :mod:`.verdicts` — our estimate of every row;
* :mod:`.report` — the chapter's sentences with this run's numbers;
* :mod:`.study` — the specs and grids built from the parameters, :func:`plan` (every cached
  task the notebook computes) and the tables offered for download;
* :mod:`.figures` — every figure of the chapter.
"""
from .study import plan

__all__ = ["plan"]
