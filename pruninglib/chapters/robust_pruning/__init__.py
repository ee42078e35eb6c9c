"""Chapter "Robust pruning at initialization" (Hayou et al. 2021: Edge of Chaos, the
rescaling trick and Stable ResNet).

Modules, in the order the notebook uses them (each takes the chapter's parameters where it
builds something from them):

* :mod:`.inits` — the ordered / EOC / chaotic initialisations and the phase diagrams' data;
* :mod:`.signal_propagation` — correlations and variances through random nets, theory and
  measured;
* :mod:`.sweeps` — the grids of runs (prune-only MLPs, trained MLPs, residual nets) and
  :func:`.sweeps.run_planned`, which runs a grid on any executor;
* :mod:`.at_init` — the pruned (and rescaled) network a run starts from;
* :mod:`.rescaling` — the measured chi of those networks, one cached task (kind ``chi``)
  each;
* :mod:`.tables` — the tables shaped from the frames;
* :mod:`.notes` — the sentences whose numbers are computed in the run;
* :mod:`.figures` — every figure;
* :mod:`.claims` — the claims, checks and not-measured rows, as data;
* :mod:`.verdicts` — the estimates the verdict table judges;
* :mod:`.report` — the numbers the exercises quote (glued) and the tables to download;
* :mod:`.tasks` — :func:`plan`, every cached task the chapter computes (for the dry run).
"""
from .tasks import plan

__all__ = ["plan"]
