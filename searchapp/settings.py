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


def default_index_dir() -> Path:
    """``$NEWSEARCH_INDEX_DIR``, else ``index/`` in the current folder."""
    configured = os.environ.get(INDEX_DIR_ENV)
    return Path(configured) if configured else Path("index")
