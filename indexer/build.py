"""``build_index(paths, index_dir)``: archive files -> index documents -> one checked commit.

- **Scope.** A run adds and updates what it is given and leaves every other source in the index
  alone. A source is known by its absolute path. Files that vanished from a *folder* the run was
  given are removed from the index (said in the report); ``remove_sources`` removes sources
  explicitly. A file that can no longer be read, or yields no article, keeps its indexed version.
- **Ids are unique.** A record whose id another source holds is skipped, naming both sources; a
  page whose id (its path below its folder) another folder's page holds gets an id qualified by
  its folder's name (``more~001``), said in the report.
- **Counted.** The commit is checked before it is made (``indexer.writer``): the index must hold
  exactly previous − removed + added articles, or nothing is committed and the run fails.
- **Atomic.** An update or a rebuild is one new Whoosh generation, whose table of contents is
  written last (a killed run leaves the previous generation, and a server sees the new one when
  it appears); a first build is written beside the index folder and renamed into place.
- **One writer at a time** (``indexer.indexdir.WriteLock``); a run cleans up what a killed one
  left behind, and says so.
- **Parallel and bounded**: files are read, split, normalised, segmented and tagged one task at
  a time (a page, or a batch of JSON Lines) in this process, and the documents stream to
  Whoosh's multi-process writer, whose workers build one segment each. Memory is bounded by the
  writers' pool size (``limitmb``), not by the archive.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from whoosh import index as whoosh_index
from whoosh.writing import LockError
from whoosh.writing import CLEAR

from indexer import indexdir, schema
from indexer.analysis import segmenter
from indexer.codec import NewsearchCodec
from indexer.documents import articles_of
from indexer.records import Article
from indexer.indexdir import IndexBusy, WriteLock, live_terms
from indexer.metadata import idf_table
from indexer.normalize import fold_table
from indexer.records import CatalogEntry, Problem
from indexer.sources import (Scope, SourceFile, Task, absolute, catalog_entry, find_sources, load_catalog,
                             page_id_of, shown, suffixes)
from indexer.writer import CheckedWriter, ParallelWriter, WriteFailed

__all__ = ["BuildReport", "IndexBuildError", "IndexBusy", "WriteFailed", "build_index",
           "index_exists", "indexed_versions", "remove_sources"]

index_exists = indexdir.exists


class IndexBuildError(Exception):
    """A problem with the index itself (not with one input file)."""


@dataclass
class BuildReport:
    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    articles_added: int = 0
    articles_removed: int = 0
    articles_total: int = 0
    chars_indexed: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the run did besides indexing
    removed: list[str] = field(default_factory=list)  # sources removed from the index

    def to_dict(self) -> dict:
        return {
            "files_indexed": self.files_indexed,
            "files_unchanged": self.files_unchanged,
            "files_removed": self.files_removed,
            "articles_added": self.articles_added,
            "articles_removed": self.articles_removed,
            "articles_total": self.articles_total,
            "chars_indexed": self.chars_indexed,
            "seconds": round(self.seconds, 3),
            "problems": [str(p) for p in self.problems],
            "notes": self.notes,
            "removed": self.removed,
        }


def indexed_versions(reader) -> dict[str, str]:
    """source -> sha1 of the file version whose articles are in the index (live ones only)."""
    terms = live_terms(reader, schema.SOURCE_VERSION)
    return dict(term.rpartition("\t")[::2] for term in terms)


def _warm_up() -> None:
    """Load the tables every document needs (once per process; sub-writers inherit them)."""
    fold_table()
    segmenter()
    idf_table()


# With the default number of workers, below this much input an update goes through one writer
# process (no extra segments).
PARALLEL_MIN_BYTES = 4 << 20


def _writer(ix, workers: int | None, todo_bytes: int, limitmb: int):
    codec = NewsearchCodec()
    procs = workers if workers is not None else min(os.cpu_count() or 1, 4)
    parallel = procs > 1 and (workers is not None or todo_bytes >= PARALLEL_MIN_BYTES)
    try:
        if parallel:
            return ParallelWriter(ix, procs=procs, multisegment=True, limitmb=limitmb // procs,
                                  codec=codec, timeout=5.0)
        return CheckedWriter(ix, limitmb=limitmb, codec=codec, timeout=5.0)
    except LockError:
        raise IndexBusy(f"the index in {ix.storage.folder} is locked by another writer") from None


def build_index(paths: list[Path], index_dir: Path, *, rebuild: bool = False,
                workers: int | None = None, progress_factory: Callable | None = None,
                limitmb: int = 1024) -> BuildReport:
    """Index the archive files under ``paths`` into ``index_dir`` (see the module docstring).

    Raises ``IndexBuildError`` (the index cannot be used), ``IndexBusy`` (another run writes
    it) or ``WriteFailed`` (the run could not be committed: the index is unchanged; or, should
    the second count after the commit ever disagree, said so).
    """
    started = time.monotonic()
    index_dir = absolute(index_dir)
    report = BuildReport()
    with WriteLock(index_dir) as lock:
        _clean_up(index_dir, lock, report)
        files, catalogs, scope = gather_sources(paths, report)
        _Run(index_dir, report, rebuild, workers, limitmb, progress_factory).write(
            files, catalogs, scope.owns, _roots(files, scope))
    report.seconds = time.monotonic() - started
    return report


def gather_sources(paths: list[Path], report: BuildReport
                   ) -> tuple[list[SourceFile], dict[str, dict[str, CatalogEntry]], Scope]:
    """The archive files under ``paths`` (each once), the catalogs of their folders (root ->
    entries) and the run's scope; what is wrong with them goes to ``report``."""
    found, scope = find_sources(paths)
    files = _unique([f for f in found if isinstance(f, SourceFile)])
    report.problems.extend(p for p in found if isinstance(p, Problem))
    catalogs: dict[str, dict[str, CatalogEntry]] = {}
    for root in sorted({f.root for f in files} | set(scope.folders)):
        catalogs[root], problems = load_catalog(Path(root))
        report.problems.extend(problems)
    for folder in scope.folders:
        if not any(f.root == folder for f in files):
            report.problems.append(Problem(shown(folder), f"no archive files ({suffixes()}) found",
                                           skipped=False))
    return files, catalogs, scope


def below(paths: list[Path]) -> Callable[[str], bool]:
    """Whether a source (an absolute path) is one of ``paths`` or lies below one of them."""
    prefixes = [str(absolute(p)) for p in paths]
    return lambda key: any(key == p or key.startswith(p.rstrip("/") + "/") for p in prefixes)


def remove_sources(paths: list[Path], index_dir: Path) -> BuildReport:
    """Remove from the index every source that is ``paths`` or lies below one of them."""
    started = time.monotonic()
    index_dir = absolute(index_dir)
    report = BuildReport()
    if not indexdir.exists(index_dir):
        raise IndexBuildError(f"no index in {index_dir}")
    chosen = below(paths)
    with WriteLock(index_dir) as lock:
        _clean_up(index_dir, lock, report)
        _Run(index_dir, report, False, 1, 64, None).write([], {}, chosen, set())
    if not report.removed:
        report.problems.append(Problem(", ".join(map(shown, paths)), "nothing in the index is from here"))
    report.seconds = time.monotonic() - started
    return report


def _unique(files: list[SourceFile]) -> list[SourceFile]:
    """Each file once, even when it was given both by name and within its folder."""
    seen: set[str] = set()
    return [f for f in files if not (f.key in seen or seen.add(f.key))]


def _roots(files: list[SourceFile], scope: Scope) -> set[str]:
    return set(scope.folders) | {f.root for f in files}


def _clean_up(index_dir: Path, lock: WriteLock, report: BuildReport) -> None:
    if lock.interrupted:
        report.notes.append(f"the previous run (pid {lock.interrupted}) did not finish; "
                            "the index is as it was before it")
    left = indexdir.leftovers(index_dir)
    if left:
        freed = indexdir.remove(left)
        report.notes.append(f"removed {len(left)} files and folders an interrupted run left behind "
                            f"({freed / 1e6:.1f} MB)")


class _Holders:
    """Which source holds each article id and page id: the index before the run (less the
    sources this run replaces) and what the run has added so far."""

    def __init__(self, reader, replaced: set[str]):
        self.reader = reader
        self.replaced = replaced
        self.added: dict[tuple[str, str], str] = {}
        self._own: tuple[str | None, frozenset[int]] = (None, frozenset())

    def holder(self, fieldname: str, value: str, source: str) -> str | None:
        """The source that holds ``value`` in ``fieldname`` already: one that took it in this
        run (``source`` itself included), or another one in the index that stays."""
        if (fieldname, value) in self.added:
            return self.added[(fieldname, value)]
        if self.reader is None or (fieldname, value) not in self.reader:
            return None
        own = self._documents_of(source)
        for docnum in self.reader.postings(fieldname, value).all_ids():
            if self.reader.is_deleted(docnum) or docnum in own:
                continue  # the source's own indexed version, which this run replaces
            held = self.reader.stored_fields(docnum)["source"]
            if held not in self.replaced:
                return held
        return None

    def _documents_of(self, source: str) -> frozenset[int]:
        """The documents of ``source`` in the index (the last source asked for is kept: a run
        asks about one file's articles in a row)."""
        if self._own[0] != source:
            found = ("source", source) in self.reader
            self._own = (source, frozenset(self.reader.postings("source", source).all_ids()) if found else frozenset())
        return self._own[1]

    def take(self, fieldname: str, value: str, source: str) -> None:
        self.added[(fieldname, value)] = source

    def indexed_value(self, fieldname: str, source: str) -> str | None:
        """The stored ``fieldname`` of the source's indexed version, if it has one."""
        if self.reader is None or ("source", source) not in self.reader:
            return None
        for docnum in self.reader.postings("source", source).all_ids():
            if not self.reader.is_deleted(docnum):
                return self.reader.stored_fields(docnum).get(fieldname)
        return None


def file_tasks(files: list[SourceFile], catalogs, holders, report: BuildReport) -> Iterator[Task]:
    """Each file's tasks, as its format cuts it; a problem met while cutting goes to the report.
    The file's catalog entry is looked up here, once, and its page id decided here, where the
    ids taken are known (``holders``: ``_Holders`` or another index's alike), when its format
    asks for one."""
    for file in files:
        entry = catalog_entry(catalogs.get(file.root, {}), file)
        for task in file.format.tasks(file, entry, partial(page_id_for, file, holders, report)):
            if isinstance(task, Problem):
                report.problems.append(task)
            else:
                yield task


def page_id_for(file: SourceFile, holders, report: BuildReport) -> str:
    """The file's page id, qualified by its folder's name when another source holds it (an
    updated file keeps the id its indexed version has)."""
    kept = holders.indexed_value("page", file.key)
    if kept and holders.holder("page", kept, file.key) is None:
        holders.take("page", kept, file.key)
        return kept
    page_id = plain = page_id_of(file.relative)
    folder = Path(file.root).name or "root"
    number = 1
    while (holder := holders.holder("page", page_id, file.key)) is not None:
        number += 1
        page_id = f"{folder}~{plain}" if number == 2 else f"{folder}~{plain}~{number - 1}"
        if number == 2:
            report.problems.append(Problem(
                shown(file.path), f"page id {plain!r} is already used by {holder}; "
                                  f"this page's articles are indexed under {page_id!r}", skipped=False))
    holders.take("page", page_id, file.key)
    return page_id


def take_id(holders, article: Article, report: BuildReport) -> bool:
    """Whether the article's id is free (it is then taken); if another source holds it, the
    article is skipped, said in the report naming both."""
    holder = holders.holder(schema.ID_FIELD, article.id, article.source)
    if holder is not None:
        where = article.file if article.kind != "record" else shown(article.source)
        report.problems.append(Problem(
            where, f"id {article.id!r} is already used by {holder}; skipped",
            article.position if article.kind == "record" else None))
        return False
    holders.take(schema.ID_FIELD, article.id, article.source)
    return True


class _Run:
    """One run's writing: what to remove, what to (re)index, the checked commit."""

    def __init__(self, index_dir: Path, report: BuildReport, rebuild: bool, workers: int | None,
                 limitmb: int, progress_factory: Callable | None):
        self.index_dir = index_dir
        self.report = report
        self.rebuild = rebuild
        self.workers = workers
        self.limitmb = limitmb
        self.progress_factory = progress_factory

    def write(self, files: list[SourceFile], catalogs: dict[str, dict[str, CatalogEntry]],
              removable: Callable[[str], bool], roots: set[str]) -> None:
        index_dir = self.index_dir
        existing = indexdir.exists(index_dir)
        if existing and not self.rebuild and indexdir.read_meta(index_dir).get("schema_version") != schema.SCHEMA_VERSION:
            raise IndexBuildError(f"the index in {index_dir} was built by another version of newsearch; "
                                  "rebuild it with `newsearch index --rebuild PATH…`")
        if not existing and index_dir.exists() and (not index_dir.is_dir() or any(index_dir.iterdir())):
            raise IndexBuildError(f"{index_dir} exists and is not a newsearch index; "
                                  "choose another --index-dir")
        if existing:
            target = index_dir
            ix = indexdir.open_for_writing(index_dir)
        else:
            target = indexdir.building_dir(index_dir)
            target.mkdir(parents=True)
            ix = whoosh_index.create_in(str(target), schema.build_schema())
        try:
            self._write(ix, target, existing, files, catalogs, removable, roots)
            if not existing:
                os.replace(target, index_dir)
        except BaseException:
            if not existing:
                indexdir.remove([target])
            else:
                indexdir.remove(indexdir.leftovers(index_dir))
            raise
        for old in indexdir.old_meta_files(index_dir, indexdir.generation(index_dir)):
            old.unlink(missing_ok=True)

    def _write(self, ix, target: Path, existing: bool, files, catalogs, removable, roots) -> None:
        report = self.report
        keep_old = existing and not self.rebuild
        reader = ix.reader() if keep_old else None
        try:
            before = reader.doc_count() if reader is not None else 0
            old_versions = indexed_versions(reader) if keep_old else {}
            old_meta = indexdir.read_meta(target) if keep_old else {}
            current = {f.key for f in files}
            removed = sorted(k for k in old_versions if k not in current and removable(k))
            todo = [f for f in files if old_versions.get(f.key) != f.fingerprint]
            report.files_unchanged = len(files) - len(todo)
            if keep_old and not todo and not removed:
                report.articles_total = before
                return
            if existing and self.rebuild:
                self._say_dropped(ix, current)
            _warm_up()
            writer = _writer(ix, self.workers, sum(f.path.stat().st_size for f in todo), self.limitmb)
            try:
                self._fill(writer, reader, todo, catalogs, old_versions, removed)
                added_sources = set(writer.expected_sources)
                kept = set(old_versions) - set(removed)
                final = kept | added_sources
                meta = {"schema_version": schema.SCHEMA_VERSION,
                        "roots": sorted(r for r in set(old_meta.get("roots", [])) | roots
                                        if any(k.startswith(r.rstrip("/") + "/") for k in final))}
                # A rebuild starts from nothing (its writer drops every old segment).
                writer.expected = before - report.articles_removed + report.articles_added if keep_old \
                    else report.articles_added
                writer.before_commit = lambda gen: indexdir.write_meta(target, gen, meta)
                writer.commit(mergetype=CLEAR if existing and self.rebuild else None)
            except BaseException:
                if not writer.is_closed:
                    writer.cancel()
                raise
            report.articles_total = writer.expected
        finally:
            if reader is not None:
                reader.close()
        self._check_committed(target, report.articles_total)
        self._say_missing_roots(target)

    def _say_dropped(self, ix, current: set[str]) -> None:
        """A rebuild's report of the sources it drops (the previous index's, not given again)."""
        with ix.reader() as reader:
            counts = live_terms(reader, "source")
        self.report.removed = sorted(source for source in counts if source not in current)
        self.report.files_removed = len(self.report.removed)
        self.report.articles_removed = sum(counts[source] for source in self.report.removed)

    def _fill(self, writer, reader, todo: list[SourceFile], catalogs, old_versions: dict[str, str],
              removed: list[str]) -> None:
        report = self.report
        for source in removed:
            report.articles_removed += writer.delete_by_term("source", source)
        report.files_removed += len(removed)
        report.removed += removed
        replaced: set[str] = set(removed)
        holders = _Holders(reader, replaced)
        writer.expected_sources = added = Counter()
        progress = self.progress_factory(sum(f.path.stat().st_size for f in todo), "indexing") \
            if self.progress_factory else None
        for task in self._tasks(todo, catalogs, holders):
            file = task.file
            articles, problems = articles_of(task)
            report.problems.extend(problems)
            if articles and file.key in old_versions and file.key not in replaced:
                report.articles_removed += writer.delete_by_term("source", file.key)
                replaced.add(file.key)
            for article in articles:
                if self._add(writer, holders, task, article):
                    added[file.key] += 1
            if progress:
                progress.advance(task.size, f"{report.articles_added} articles")
        if progress:
            progress.close()
        report.files_indexed = len(added)
        for file in todo:
            if file.key in old_versions and file.key not in replaced:
                report.problems.append(Problem(shown(file.path), "nothing could be read from the new version; "
                                               "the version indexed before is kept", skipped=False))

    def _tasks(self, files: list[SourceFile], catalogs, holders: _Holders) -> Iterator[Task]:
        return file_tasks(files, catalogs, holders, self.report)

    def _add(self, writer, holders: _Holders, task: Task, article: Article) -> bool:
        if not take_id(holders, article, self.report):
            return False
        writer.add_article(article, task.file.fingerprint, task.catalog)
        self.report.articles_added += 1
        self.report.chars_indexed += len(article.text)
        return True

    def _check_committed(self, target: Path, expected: int) -> None:
        """The committed index holds what the run counted (a second look, after the commit)."""
        with whoosh_index.open_dir(str(target)).reader() as reader:
            if reader.doc_count() != expected:
                raise WriteFailed(f"the committed index holds {reader.doc_count():,} articles, "
                                  f"{expected:,} were expected")

    def _say_missing_roots(self, target: Path) -> None:
        for root in indexdir.read_meta(target).get("roots", []):
            if not os.path.isdir(root):
                self.report.notes.append(
                    f"{root}, indexed before, is gone; its files are still in the index "
                    f"(`newsearch remove {root}` removes them)")
