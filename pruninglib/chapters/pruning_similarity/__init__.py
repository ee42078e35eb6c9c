"""The chapter "Is pruning compression?" (Blakeney et al. 2020): representation drift of pruned
networks, random sparse initialisation, and whether the mask matters.

* :mod:`.finetune` — runs derived from a stored trained run (magnitude pruning along a path
  with fine-tuning; masks trained from scratch: re-initialised, random with the same layer
  sizes, uniform random), cached as kind ``derived``;
* :mod:`.drift` — layer similarities of stored networks to a reference, cached as kind
  ``drift``, one task per compared pair;
* :mod:`.study` — the chapter's grid per model (independent references, each with its own
  pruning paths and from-scratch networks), the compared pairs, :func:`plan` (every cached
  task), and the frames (networks, similarities, their summary, B1b's budgets);
* :mod:`.verdicts` — the estimates the verdicts read, over independent references;
* :mod:`.claims` — the claims and checks as data, rendered per model (B1b per measure and
  fine-tuning recipe);
* :mod:`.report` — tables, summary texts, the numbers the exercises quote, the downloads;
* :mod:`.figures` — the chapter's figures.
"""
from .study import plan

__all__ = ["plan"]
