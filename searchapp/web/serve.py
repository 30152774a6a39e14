"""``newsearch serve``: build the index on first run, then serve the app under waitress."""

from __future__ import annotations

import sys
from pathlib import Path

from indexer.build import build_index, index_exists
from indexer.progress import Progress
from searchapp.web import create_app


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


def serve(index_dir: Path, corpus: Path, host: str = "127.0.0.1", port: int = 8000,
          threads: int = 4) -> int:
    import waitress

    if not index_exists(index_dir) and not corpus.exists():
        print(f"newsearch: error: no index in {index_dir} and no corpus at {corpus}", file=sys.stderr)
        return 1
    ensure_index(index_dir, corpus)
    app = create_app({"INDEX_DIR": str(index_dir)})
    print(f"newsearch: serving {index_dir} on http://{host}:{port}/ (waitress, {threads} threads)",
          file=sys.stderr, flush=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="newsearch")
    return 0
