"""Which backend serves the search core: the embedded index in a folder (the default) or a
SphinxQL engine, chosen with ``--backend`` / ``NEWSEARCH_BACKEND`` (``sphinxql://HOST:PORT/TABLE``).
"""

from __future__ import annotations

import os
from pathlib import Path

from indexer.engine import ENV, EngineError, is_engine_url, parse_url


def backend_url(given: str | None = None) -> str | None:
    """The engine URL given, else ``$NEWSEARCH_BACKEND``; ``None`` for the embedded index.
    Anything else than a ``sphinxql://`` URL is an ``EngineError`` naming it."""
    url = given if given is not None else os.environ.get(ENV) or None
    if url is None or url == "embedded":
        return None
    if not is_engine_url(url):
        raise EngineError(f"backend {url!r} is not sphinxql://HOST:PORT/TABLE (or 'embedded')")
    parse_url(url)
    return url


def open_backend(index_dir: Path, url: str | None):
    """The index the core searches: ``EngineIndex(url)`` for an engine, else the embedded
    ``SearchIndex(index_dir)`` (raising ``IndexMissing`` / ``EngineError`` as they do)."""
    if url:
        from searchapp.engine_search import EngineIndex

        return EngineIndex(url)
    from searchapp.store import SearchIndex

    return SearchIndex(index_dir)
