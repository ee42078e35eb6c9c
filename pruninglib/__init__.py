"""pruninglib: the library behind the pruning-at-initialization study.

One module a concern (see ARCHITECTURE.md): ``config`` (specs), ``data``, ``models``,
``masks``, ``pruners``, ``train``, ``store``, ``experiments``, ``analysis``, ``claims``,
``plots`` and ``book`` (the book builder).
"""
__version__ = "0.1.0"
