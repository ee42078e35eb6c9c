"""Runs: every cached computation of the study and where it executes.

:mod:`.cache` (the one cached-computation path: :class:`Task`, :func:`cached`), :mod:`.store`
(results on disk: atomic, checksummed, claimed), :mod:`.executors` (inline, process pool,
SLURM, Ray: :func:`execute` maps tasks to them), :mod:`.experiments` (training runs and
sweeps), :mod:`.networks` (a network at initialisation; a network with its mask in the store)
and :mod:`.cli` (``python -m pruninglib sweep|status``).
"""
