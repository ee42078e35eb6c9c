"""The ToST chapter (notebooks/tost.ipynb): one mask, several training protocols, after
Jaiswal et al. 2022. The tricks themselves are core (:mod:`pruninglib.tricks`).

* :mod:`.protocols` — the protocols as spec changes, their table, the ghosts' schedule;
* :mod:`.experiment` — :class:`~.experiment.Design` (the knobs as specs), the grid as cached
  training runs on any executor (:func:`~.experiment.run_protocols`), :func:`plan` (every
  task the notebook computes, for the dry run), paired gains, the dense-sparse gap;
* :mod:`.claims` — ToST's claims and this book's own tests as data, and their estimates;
* :mod:`.report` — the gain and baseline tables, the precondition, the written findings,
  the downloads, the exercises' numbers, the cost note;
* :mod:`.figures` — accuracy with and without the recipe, and each protocol's gain.
"""
from .experiment import plan

__all__ = ["plan"]
