"""Opening the index for searching: one ``SearchIndex`` per process, a searcher per thread.

Whoosh searchers read through shared file handles, so each thread gets its own; all of them
are refreshed when a new index version is committed. The facet table is built once per version
and shared (it is read-only).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.analysis import segmenter
from indexer.normalize import fold_table
from searchapp.facets import FacetTable
from searchapp.ranking import weighting

REFRESH_SECONDS = 1.0


class IndexMissing(Exception):
    """No index where one was expected; the message says how to build one."""

    def __init__(self, index_dir: Path):
        super().__init__(
            f"no search index in {index_dir}: build one with `newsearch index corpus/ "
            f"--index-dir {index_dir}` (or set NEWSEARCH_INDEX_DIR)"
        )
        self.index_dir = index_dir


class SearchIndex:
    def __init__(self, index_dir: Path, ranking: str = "bm25f"):
        self.index_dir = Path(index_dir)
        if not (self.index_dir.is_dir() and whoosh_index.exists_in(str(self.index_dir))):
            raise IndexMissing(self.index_dir)
        self.ix = whoosh_index.open_dir(str(self.index_dir))
        self.weighting = weighting(ranking)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._facet_tables: dict[tuple, FacetTable] = {}
        # Query analysis needs jieba and the folding table: load them now, not on a request.
        fold_table()
        segmenter()

    def searcher(self):
        local = self._local
        searcher = getattr(local, "searcher", None)
        now = time.monotonic()
        if searcher is None:
            local.searcher = searcher = self.ix.searcher(weighting=self.weighting)
            local.checked = now
        elif now - local.checked > REFRESH_SECONDS:
            local.checked = now
            if not searcher.up_to_date():
                fresh = searcher.refresh()
                local.searcher = searcher = fresh
        return searcher

    def facet_table(self, searcher) -> FacetTable:
        reader = searcher.reader()
        version = index_version(reader)
        table = self._facet_tables.get(version)
        if table is None:
            with self._lock:
                table = self._facet_tables.get(version)
                if table is None:
                    table = FacetTable.from_reader(reader)
                    self._facet_tables = {version: table}
        return table

    def warm_up(self) -> None:
        """Build the facet table now (not on the first request), then close the searcher used
        for it: a server that forks after this shares the table, and each worker thread opens
        its own searcher."""
        self.facet_table(self.searcher())
        self.close()

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
            self._local.searcher = None


def index_version(reader) -> tuple:
    """Identifies what a reader sees: its segments and their deletions."""
    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else []
    return tuple((leaf.segment().segment_id(), leaf.segment().deleted_count())
                 for leaf, _ in leaves if hasattr(leaf, "segment"))
