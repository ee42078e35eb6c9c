"""The ten-minute tour (notebooks/pai_in_ten_minutes.ipynb): four pruning-at-initialization
criteria on LeNet-300-100 and Conv-4, Fashion-MNIST, judged on the SynFlow paper's claims.

* :mod:`.sweep` — the tour's grid: every model dense and pruned by every method, density and
  seed, through the cached training runs on any executor;
* :mod:`.tables` — the tables the chapter shows (accuracy, collapsed layers, seconds);
* :mod:`.claims` — the claims table as data, with the paper's numbers and calibrations taken
  from the authors' Fig. 6 data at the compression we test;
* :mod:`.verdicts` — the estimate of every claim from the tour's frames.

The figures are the book's shared ones (:mod:`pruninglib.book.plots`).
"""
