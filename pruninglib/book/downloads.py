"""Results to download: a chapter writes the tidy frames its figures and verdicts are made from
as CSV files next to its executed page, and links them from a Markdown cell with MyST's
``{download}`` role, e.g. ``{download}`\\`runs (CSV) <data/synflow-runs.csv>\\```.

Only a chapter the runner executes (``$PRUNINGLIB_CHAPTER`` set) writes next to the book's
pages; a notebook run by hand (``papermill`` from the repository root) writes its tables to
``_build/downloads/`` instead, so it never replaces the CSV files of the built book."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .parameters import EXECUTED_DIR, ParameterError, repo_root
from .tables import CHAPTER_ENV

DATA_DIR = EXECUTED_DIR / "data"  # relative to the repository root; pages link "data/..."
BY_HAND_DIR = Path("_build") / "downloads"  # where a notebook run outside the runner writes


def csv_name(chapter: str, name: str) -> str:
    """The file name of table ``name`` of ``chapter``: ``<chapter>-<name>.csv``."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ParameterError(f"table name={name!r} is not allowed: lower-case letters, digits "
                             f"and _")
    return f"{chapter}-{name}.csv"


def save_tables(chapter: str, tables: Mapping[str, pd.DataFrame], root=None) -> list[Path]:
    """Write every frame of ``tables`` (name -> DataFrame) to
    ``book/executed/data/<chapter>-<name>.csv`` under the runner, else to
    ``_build/downloads/<chapter>-<name>.csv`` (no index column); return the paths written.
    Pages link them as ``data/<chapter>-<name>.csv``."""
    folder = Path(root or repo_root()) / (DATA_DIR if os.environ.get(CHAPTER_ENV) else BY_HAND_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = folder / csv_name(chapter, name)
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths
