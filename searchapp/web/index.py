"""The app's index, as Flask's tutorial keeps its database in ``db.py``: opened when the app is
created (which also loads jieba and builds the facet table, before a server forks its workers)
and got by requests with ``get_index()``."""

from __future__ import annotations

import time
from pathlib import Path

from flask import Flask, current_app

from indexer.engine import EngineError
from searchapp.backends import backend_url, open_backend
from searchapp.store import REFRESH_SECONDS, IndexMissing

UNAVAILABLE = (IndexMissing, EngineError)


def _open(app: Flask):
    """The app's index: the engine of ``BACKEND`` (config, else ``$NEWSEARCH_BACKEND``) or the
    embedded index in ``INDEX_DIR``."""
    return open_backend(Path(app.config["INDEX_DIR"]), backend_url(app.config.get("BACKEND")))


def init_app(app: Flask) -> None:
    try:
        index = _open(app)
        index.warm_up()
        app.extensions["newsearch"] = index
    except UNAVAILABLE as error:
        app.extensions["newsearch"] = error


def get_index() -> SearchIndex:
    """The app's index; raises ``IndexMissing`` (or ``EngineError``) while there is none (looked for again at most
    every ``REFRESH_SECONDS``, so an index built after the server started is served)."""
    extensions = current_app.extensions
    index = extensions["newsearch"]
    if isinstance(index, UNAVAILABLE):
        now = time.monotonic()
        if now - extensions.get("newsearch_looked", 0.0) < REFRESH_SECONDS:
            raise index
        extensions["newsearch_looked"] = now
        try:
            extensions["newsearch"] = index = _open(current_app)
        except UNAVAILABLE as error:
            extensions["newsearch"] = error
            raise error from None
    return index
