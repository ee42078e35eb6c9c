"""``python -m pruninglib sweep|status``: see :mod:`pruninglib.runs.cli`."""
import sys

from .runs.cli import main

if __name__ == "__main__":
    sys.exit(main())
