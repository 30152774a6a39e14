"""Opening the index for searching: one ``SearchIndex`` per process, a searcher per thread.

Whoosh searchers read through shared file handles, so each thread gets its own. Every
``REFRESH_SECONDS`` a thread looks whether the index has moved on: a new generation (an update
or a rebuild), or a new folder in its place (a first build renamed in, or one made by hand);
then it opens a searcher on what is there now. Opening can race the indexer's clean-up of the
files of the generation before; such a failure is retried on the next look, and meanwhile the
old searcher (whose files stay readable while open) keeps answering. The facet table is built
once per version and shared (it is read-only).
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import EmptyIndexError, IndexVersionError

from indexer.indexdir import exists as index_exists
from indexer.indexdir import generation, read_meta
from indexer.schema import SCHEMA_VERSION

from indexer.analysis import segmenter
from indexer.normalize import fold_table
from searchapp.facets import FacetTable
from searchapp.matching import close_gram_segments
from searchapp.ranking import weighting

REFRESH_SECONDS = 1.0
OPEN_ATTEMPTS = 5


def _folder_id(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


class IndexMissing(Exception):
    """No index where one was expected; the message says how to build one."""

    def __init__(self, index_dir: Path):
        super().__init__(
            f"no search index in {index_dir}: build one with `newsearch index corpus/ "
            f"--index-dir {index_dir}` (or set NEWSEARCH_INDEX_DIR)"
        )
        self.index_dir = index_dir


class IndexOutdated(IndexMissing):
    """An index built by another version of newsearch (another schema): it must be rebuilt.

    A subclass of ``IndexMissing``, so the CLI and the web app report it the same way (one line;
    503 from the web app)."""

    def __init__(self, index_dir: Path):
        Exception.__init__(self, f"the index in {index_dir} was built by another version of newsearch; "
                                 "rebuild it with `newsearch index --rebuild PATH…`")
        self.index_dir = index_dir


# What unpickling the schema or segments of a table of contents raises when a class they name
# has moved or gone (ImportError covers ModuleNotFoundError), and Whoosh's own "another format".
_UNREADABLE = (AttributeError, ImportError, pickle.UnpicklingError, IndexVersionError)


def _schema_version(index_dir: Path):
    """The schema version in the meta file of the index's latest generation (None: no meta file).

    An update commits generation N+1 and then deletes N's meta file: when the file is missing
    because the generation moved on meanwhile, look again."""
    for _ in range(OPEN_ATTEMPTS):
        gen = generation(index_dir)
        meta = read_meta(index_dir, gen)
        if meta or generation(index_dir) == gen:
            return meta.get("schema_version")
    return None


def open_index(index_dir: Path):
    """The Whoosh index in ``index_dir``, if this version of newsearch built it.

    Raises ``IndexMissing`` when there is none and ``IndexOutdated`` when another version (another
    schema version in the meta file, no meta file, or a table of contents naming classes that
    cannot be loaded) built it."""
    if not index_exists(index_dir):
        raise IndexMissing(index_dir)
    if _schema_version(index_dir) != SCHEMA_VERSION:
        raise IndexOutdated(index_dir)
    try:
        return whoosh_index.open_dir(str(index_dir))
    except _UNREADABLE:
        raise IndexOutdated(index_dir) from None


class SearchIndex:
    def __init__(self, index_dir: Path, ranking: str = "bm25f"):
        self.index_dir = Path(index_dir)
        self._folder = _folder_id(self.index_dir)
        self.ix = open_index(self.index_dir)
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
            local.ix = self._current_ix()
            local.searcher = searcher = self._open_searcher(local.ix)
            local.checked = now
        elif now - local.checked > REFRESH_SECONDS:
            local.checked = now
            try:
                ix = self._current_ix()
                if local.ix is not ix or not searcher.up_to_date():
                    local.searcher = ix.searcher(weighting=self.weighting)
                    local.ix = ix
                    _close(searcher)
                    searcher = local.searcher
            except (OSError, EmptyIndexError):
                pass  # caught mid-swap: keep answering from the old searcher, look again soon
        return searcher

    def _open_searcher(self, ix):
        """A searcher on ``ix`` as it is now, retried while a commit is cleaning up."""
        for attempt in range(OPEN_ATTEMPTS):
            try:
                return ix.searcher(weighting=self.weighting)
            except (OSError, EmptyIndexError):
                if attempt == OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.05)  # back off while the indexer finishes renaming and deleting

    def _current_ix(self):
        """The index in ``index_dir``, reopened when the folder there is a new one (one this
        version of newsearch can read: until then, the one open is kept)."""
        folder = _folder_id(self.index_dir)
        if folder != self._folder and folder is not None:
            with self._lock:
                if folder != self._folder:
                    try:
                        self.ix = open_index(self.index_dir)
                    except IndexMissing:
                        return self.ix
                    self._folder = folder
        return self.ix

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
            _close(searcher)
            self._local.searcher = None


def _close(searcher) -> None:
    close_gram_segments(searcher)
    searcher.close()


def index_version(reader) -> tuple:
    """Identifies what a reader sees: its segments and their deletions."""
    leaves = reader.leaf_readers() if hasattr(reader, "leaf_readers") else []
    segments = [leaf.segment() for leaf, _ in leaves if hasattr(leaf, "segment")]
    return tuple((segment.segment_id(), segment.deleted_count()) for segment in segments
                 if segment is not None)
