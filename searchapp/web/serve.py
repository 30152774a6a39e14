"""``newsearch serve``: build the index on first run, then serve the app under gunicorn.

gunicorn forks worker processes (one per core by default), each with a few threads: the search
core is Python, so more than one process is what uses more than one core. The app (with jieba and
the opened index) is created once in the master before the fork and shared; every worker thread
opens its own Whoosh searcher after the fork.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from indexer.build import build_index, index_exists
from indexer.progress import Progress
from searchapp.web import create_app

REQUEST_LINE_BYTES = 8190  # gunicorn's maximum


def ensure_index(index_dir: Path, corpus: Path) -> int:
    """Build ``index_dir`` from ``corpus`` if there is no index yet; the number of problems."""
    if index_exists(index_dir):
        return 0
    print(f"newsearch: no index in {index_dir}; indexing {corpus} first", file=sys.stderr)
    report = build_index([corpus], index_dir, progress_factory=lambda total, label: Progress(total, label))
    for problem in report.problems:
        print(f"newsearch: skipped {problem}", file=sys.stderr)
    print(f"newsearch: indexed {report.articles_added} articles in {report.seconds:.1f}s", file=sys.stderr)
    return len(report.problems)


def _gunicorn(app, options: dict):
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    return Server()


def serve(index_dir: Path, corpus: Path, host: str = "127.0.0.1", port: int = 8000,
          threads: int = 4, workers: int | None = None, backend: str | None = None) -> int:
    """Serve the embedded index in ``index_dir`` (built from ``corpus`` on first run), or the
    engine at ``backend`` (a ``sphinxql://`` URL: nothing is built)."""
    if backend is None:
        if not index_exists(index_dir) and not corpus.exists():
            print(f"newsearch: error: no index in {index_dir} and no corpus at {corpus}", file=sys.stderr)
            return 1
        ensure_index(index_dir, corpus)
    app = create_app({"INDEX_DIR": str(index_dir), "BACKEND": backend or "embedded"})
    if backend is not None:
        index_dir = backend
    workers = workers or min(os.cpu_count() or 1, 4)
    print(f"newsearch: serving {index_dir} on http://{host}:{port}/ "
          f"(gunicorn, {workers} workers x {threads} threads)", file=sys.stderr, flush=True)
    _gunicorn(app, {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "newsearch",
        # A query of MAX_QUERY_CHARS Han characters is 9 bytes each in the URL (4,500 bytes), over
        # gunicorn's default of 4,094 for the request line: its maximum lets such a query, with
        # filters, reach the app (which refuses longer ones with its own page and JSON).
        "limit_request_line": REQUEST_LINE_BYTES,
    }).run()
    return 0
