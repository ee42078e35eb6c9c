"""The SynFlow chapter (Tanaka et al. 2020): layer collapse, the conservation law of synaptic
saliency, and iterative synaptic flow. Notebook: ``notebooks/synflow.ipynb``.

* :mod:`.collapse` — prune-only sweeps (a cached ``collapse`` task per point, any executor),
  critical compressions, which layer goes first, and where trained runs fall off the cliff;
* :mod:`.conservation` — how far the conservation law is off at initialisation, exactly where
  it is an identity and on networks where it can fail (biases, BatchNorm data statistics);
* :mod:`.study` — the chapter's four studies built from its parameters (conservation,
  collapse, accuracy after training, iterative magnitude pruning), and :func:`plan`, every
  cached task they compute;
* :mod:`.paper` — the authors' Fig. 1 and IMP numbers, typed in once, and the chapter's
  criteria calibrated on them (and on Fig. 6);
* :mod:`.claims` — the claims and checks as data, filled in from the parameters;
* :mod:`.verdicts` — our estimate of every claim, and the summary in words;
* :mod:`.tables` — the tables the chapter shows;
* :mod:`.report` — the numbers its exercises quote (glued) and the tables it offers as CSV;
* :mod:`.figures` — its figures.
"""
from .study import plan

__all__ = ["plan"]
