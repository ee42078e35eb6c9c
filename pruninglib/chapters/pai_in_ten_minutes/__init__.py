"""The ten-minute tour (notebooks/pai_in_ten_minutes.ipynb): four pruning-at-initialization
criteria on LeNet-300-100 and Conv-4, Fashion-MNIST, judged on the SynFlow paper's claims.

* :mod:`.sweep` — the tour's grid (:class:`~.sweep.TourDesign`, from the parameters): every
  model dense and pruned by every method, density and seed, through the cached training runs
  on any executor; :func:`~.sweep.plan` lists those runs' tasks without training;
* :mod:`.tables` — the tables the chapter shows (accuracy, collapsed layers, seconds);
* :mod:`.claims` — the claims table as data, with the paper's numbers and calibrations taken
  from the authors' Fig. 6 data at the compression we test;
* :mod:`.verdicts` — the estimate of every claim from the tour's frames;
* :mod:`.report` — the numbers the exercises quote and the tables to download.

The figures are the book's shared ones (:mod:`pruninglib.book.plots`).
"""
from .sweep import plan

__all__ = ["plan"]
