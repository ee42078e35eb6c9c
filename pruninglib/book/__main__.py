"""``python -m pruninglib.book build --profile P``: see :mod:`pruninglib.book.runner`."""
import sys

from .runner import main

sys.exit(main())
