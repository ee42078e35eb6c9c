"""Random-sparse parity and the NTK of randomly pruned networks (notebook
``random_pruning.ipynb``).

* :mod:`.parity` — the training runs (found, shuffled and re-initialised PaI masks, random
  masks with data-free layer densities, the width experiment), their labels, paired
  differences and tables;
* :mod:`.ntk_study` — the cached sweep of NTK cells (widths × keep probabilities × seeds) and
  its power-law fits;
* :mod:`.claims` — the claims table as data (claims, checks, not measured) filled in from the
  parameters; :mod:`.verdicts` — our estimate of every row;
* :mod:`.report` — the chapter's sentences with this run's numbers;
* :mod:`.figures` — every figure of the chapter.
"""
