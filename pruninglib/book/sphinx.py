"""Sphinx extension (listed under ``sphinx.extra_extensions`` in ``_config.yml``): the launch and
source buttons of an executed chapter point at its source notebook in ``notebooks/``."""
from __future__ import annotations

from pathlib import Path

from .parameters import EXECUTED_DIR, SOURCE_DIR


def point_buttons_at_sources(app, pagename, templatename, context, doctree) -> None:
    """Rewrite ``book/executed/<chapter>.ipynb`` to ``notebooks/<chapter>.ipynb`` in the
    header buttons' external links (Binder, Colab, repository source/edit links); the
    download link (relative, the executed copy) is left alone."""
    prefix = EXECUTED_DIR.as_posix() + "/"
    if not pagename.startswith(prefix):
        return
    executed = pagename + ".ipynb"
    source = (SOURCE_DIR / Path(pagename).name).as_posix() + ".ipynb"

    def fix(buttons) -> None:
        for button in buttons or []:
            url = button.get("url")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                button["url"] = url.replace(executed, source)
            fix(button.get("buttons"))

    fix(context.get("header_buttons"))


def setup(app) -> dict:
    """Sphinx entry point (listed under ``sphinx.extra_extensions`` in ``_config.yml``)."""
    app.connect("html-page-context", point_buttons_at_sources, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


