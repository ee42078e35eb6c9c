"""Default locations of data and results: an environment variable, else the source checkout,
else the user's cache directory."""
from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path | None:
    """The source checkout holding this package (a folder with pyproject.toml), if any."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def default_dir(env_var: str, name: str) -> Path:
    """``$env_var`` if set; else ``<checkout>/<name>``; else ``~/.cache/pruninglib/<name>``."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var]).expanduser()
    root = project_root()
    return root / name if root else Path.home() / ".cache" / "pruninglib" / name
