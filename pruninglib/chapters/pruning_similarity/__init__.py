"""The chapter "Is pruning compression?" (Blakeney et al. 2020): representation drift of pruned
networks, random sparse initialisation, and whether the mask matters.

* :mod:`.finetune` — runs derived from a stored trained run (magnitude pruning along a path
  with fine-tuning; masks trained from scratch), cached as kind ``derived``;
* :mod:`.drift` — layer similarities of stored networks to a reference, cached as kind
  ``drift``, one task per network;
* :mod:`.study` — the chapter's grid per model, its frames (accuracy, similarity summary),
  the verdict estimates and the summary text;
* :mod:`.claims` — the claims and checks as data, rendered per model;
* :mod:`.figures` — the chapter's figures.
"""
