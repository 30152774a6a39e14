"""Where things are and the limits every front end applies."""

from __future__ import annotations

import os
from pathlib import Path

# Relative to the current folder, so that an installed newsearch (whose code lives in
# site-packages) keeps its index where its user works; `make serve` runs in the project.
DEFAULT_CORPUS = Path("corpus")
INDEX_DIR_ENV = "NEWSEARCH_INDEX_DIR"

MAX_QUERY_CHARS = 500
MAX_PER_PAGE = 100
MAX_PAGE = 1000
DEFAULT_PER_PAGE = 10
SNIPPETS_PER_HIT = 3
EXPORT_MAX_ROWS = 100_000  # rows of an export at most (the web app's EXPORT_MAX_ROWS may lower it)

# The concordance (``searchapp.kwic``): lines collected at most (the newest kept), articles read
# at most, characters of context either side, lines per page.
KWIC_MAX_LINES = 20_000
KWIC_MAX_ARTICLES = 5_000
KWIC_DEFAULT_WIDTH = 20
KWIC_MAX_WIDTH = 100
KWIC_PER_PAGE = 50
KWIC_MAX_PER_PAGE = 500


def default_index_dir() -> Path:
    """``$NEWSEARCH_INDEX_DIR``, else ``index/`` in the current folder."""
    configured = os.environ.get(INDEX_DIR_ENV)
    return Path(configured) if configured else Path("index")
