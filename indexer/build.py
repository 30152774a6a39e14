"""``build_index(paths, index_dir)``: records -> documents -> one atomic Whoosh commit.

- Incremental: each file's sha1 is indexed with its articles (field ``source_version``); a file
  whose hash is unchanged is skipped, a changed one re-indexed, a vanished one removed.
- Atomic: an update is one Whoosh commit (a killed run leaves the last commit whole); a fresh
  build (first build or ``rebuild``) is written to a sibling folder and swapped in at the end.
- Parallel and bounded: files are read, split, normalised, segmented and tagged one task at a
  time (a page, or a batch of JSON Lines), and the documents stream to Whoosh's multiprocess
  writer, whose sub-processes build one segment each (writing postings is most of the work).
  Memory is bounded by the writers' pool size (``limitmb``), not by the archive.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from whoosh import index as whoosh_index
from whoosh.multiproc import MpWriter
from whoosh.writing import SegmentWriter

from indexer import schema
from indexer.analysis import segmenter
from indexer.codec import NewsearchCodec
from indexer.documents import PageTask, RecordsTask, prepare, to_document
from indexer.metadata import idf_table
from indexer.normalize import fold_table
from indexer.records import CatalogEntry, Problem
from indexer.sources import SourceFile, find_sources, jsonl_batches, load_catalog

META_FILE = "newsearch.json"


class IndexBuildError(Exception):
    """A problem with the index itself (not with one input file)."""


@dataclass
class BuildReport:
    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    articles_added: int = 0
    chars_indexed: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "files_indexed": self.files_indexed,
            "files_unchanged": self.files_unchanged,
            "files_removed": self.files_removed,
            "articles_added": self.articles_added,
            "chars_indexed": self.chars_indexed,
            "seconds": round(self.seconds, 3),
            "problems": [str(p) for p in self.problems],
        }


def index_exists(index_dir: Path) -> bool:
    return index_dir.is_dir() and whoosh_index.exists_in(str(index_dir))


def read_meta(index_dir: Path) -> dict:
    try:
        return json.loads((index_dir / META_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _write_meta(index_dir: Path, root_paths: list[Path]) -> None:
    meta = {"schema_version": schema.SCHEMA_VERSION,
            "paths": [str(p.resolve()) for p in root_paths]}
    tmp = index_dir / (META_FILE + ".tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
    os.replace(tmp, index_dir / META_FILE)


def indexed_versions(ix) -> dict[str, str]:
    """source -> sha1 of the file version whose articles are in the index (live ones only)."""
    versions: dict[str, str] = {}
    with ix.reader() as reader:
        if schema.SOURCE_VERSION not in reader.schema:
            return versions
        deletions = reader.has_deletions()
        for term in reader.lexicon(schema.SOURCE_VERSION):
            if deletions:
                postings = reader.postings(schema.SOURCE_VERSION, term)
                if not any(not reader.is_deleted(d) for d in postings.all_ids()):
                    continue
            source, _, sha1 = term.decode("utf-8").rpartition("\t")
            versions[source] = sha1
    return versions


def _tasks(files: list[SourceFile], catalogs: dict[str, CatalogEntry],
           ) -> Iterator[tuple[PageTask | RecordsTask, int]]:
    """Tasks with the number of input bytes each stands for (for progress)."""
    for file in files:
        if file.is_jsonl:
            for batch in jsonl_batches(file):
                yield RecordsTask(file, batch), sum(len(line) for _, line in batch)
        else:
            entry = catalogs.get(file.source) or catalogs.get(file.path.name)
            yield PageTask(file, entry), file.path.stat().st_size


def _warm_up() -> None:
    """Load the tables every document needs (once per process; sub-writers inherit them)."""
    fold_table()
    segmenter()
    idf_table()


# Below this much input an update goes through one writer process (no extra segments).
PARALLEL_MIN_BYTES = 4 << 20


def _writer(ix, workers: int, todo_bytes: int, limitmb: int):
    codec = NewsearchCodec()
    if workers > 1 and todo_bytes >= PARALLEL_MIN_BYTES:
        return MpWriter(ix, procs=workers, multisegment=True, limitmb=limitmb // workers,
                        codec=codec)
    return SegmentWriter(ix, limitmb=limitmb, codec=codec)


def _discover(paths: list[Path], report: BuildReport) -> tuple[list[SourceFile], dict[str, CatalogEntry]]:
    files: list[SourceFile] = []
    for item in find_sources(paths):
        if isinstance(item, Problem):
            report.problems.append(item)
        else:
            files.append(item)
    catalogs: dict[str, CatalogEntry] = {}
    for root in paths:
        entries, problems = load_catalog(root)
        catalogs.update(entries)
        report.problems.extend(problems)
    seen: set[str] = set()
    unique = []
    for file in files:
        if file.source in seen:
            report.problems.append(Problem(str(file.path), f"another input file is also named {file.source}"))
            continue
        seen.add(file.source)
        unique.append(file)
    return unique, catalogs


def build_index(paths: list[Path], index_dir: Path, *, rebuild: bool = False,
                workers: int | None = None, progress_factory: Callable | None = None,
                limitmb: int = 256) -> BuildReport:
    """Index the archive files under ``paths`` into ``index_dir`` (see module docstring)."""
    started = time.monotonic()
    report = BuildReport()
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    files, catalogs = _discover(paths, report)

    fresh = rebuild or not index_exists(index_dir)
    if not fresh and read_meta(index_dir).get("schema_version") != schema.SCHEMA_VERSION:
        raise IndexBuildError(f"the index in {index_dir} was built by another version of newsearch; "
                          "run `newsearch index --rebuild` to rebuild it")

    if fresh:
        target = index_dir.parent / f".{index_dir.name}.building-{os.getpid()}"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        ix = whoosh_index.create_in(str(target), schema.build_schema())
        old_versions: dict[str, str] = {}
    else:
        target = index_dir
        ix = whoosh_index.open_dir(str(index_dir))
        old_versions = indexed_versions(ix)

    current = {f.source for f in files}
    todo = [f for f in files if old_versions.get(f.source) != f.fingerprint]
    report.files_unchanged = len(files) - len(todo)
    removed = [s for s in old_versions if s not in current]
    if not todo and not removed:
        report.seconds = time.monotonic() - started
        if fresh:
            _swap_in(target, index_dir, paths)
        return report

    _warm_up()
    total = sum(f.path.stat().st_size for f in todo)
    writer = _writer(ix, workers, total, limitmb)
    try:
        for source in removed:
            writer.delete_by_term("source", source)
        report.files_removed = len(removed)
        for file in todo:
            if file.source in old_versions:
                writer.delete_by_term("source", file.source)
        progress = progress_factory(total, "indexing") if progress_factory else None
        seen_ids: set[str] = set()
        ok_sources: set[str] = set()
        for task, size in _tasks(todo, catalogs):
            prepared, problems = prepare(task)
            report.problems.extend(problems)
            for item in prepared:
                article = item.article
                if article.id in seen_ids:
                    report.problems.append(Problem(article.source, f"duplicate id {article.id!r} skipped",
                                                   article.position if article.kind == "record" else None))
                    continue
                seen_ids.add(article.id)
                writer.add_document(**to_document(item))
                ok_sources.add(article.source)
                report.articles_added += 1
                report.chars_indexed += len(article.text)
            if progress:
                progress.advance(size, f"{report.articles_added} articles")
        report.files_indexed = len(ok_sources)
        if progress:
            progress.close()
        writer.commit()
    except BaseException:
        writer.cancel()
        if fresh:
            shutil.rmtree(target, ignore_errors=True)
        raise
    if fresh:
        _swap_in(target, index_dir, paths)
    else:
        _write_meta(index_dir, paths)
    report.seconds = time.monotonic() - started
    return report


def _swap_in(built: Path, index_dir: Path, paths: list[Path]) -> None:
    """Put a freshly built index where the old one was, keeping the old one until then."""
    _write_meta(built, paths)
    old = index_dir.parent / f".{index_dir.name}.old-{os.getpid()}"
    if index_dir.exists():
        os.replace(index_dir, old)
    os.replace(built, index_dir)
    shutil.rmtree(old, ignore_errors=True)
