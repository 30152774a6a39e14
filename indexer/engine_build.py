"""``build_engine_index(paths, url)``: archive files -> rows of a SphinxQL engine (``indexer.engine``).

The same run as ``indexer.build.build_index`` over another store: the same files
(``gather_sources``: ``find_sources``, the catalogs), the same tasks, page ids and articles
(``file_tasks``, ``articles_of``), the same analysis (``prepare_article``, then
``indexer.engine.row``), the same problems (``path[:line]: reason``) and the same report.

- **Scope.** As the embedded index: a run adds and updates what it is given and leaves every
  other source alone; a file whose indexed ``version`` (``source\\tfingerprint``) is the file's
  is skipped; a changed file's rows are deleted, then its new rows written; files gone from a
  folder given are removed; ``remove_engine_sources`` removes sources explicitly; a file that
  can no longer be read, or yields no article, keeps its rows. ``rebuild`` empties the shards
  first (``TRUNCATE RTINDEX``) and says which sources it dropped.
- **Ids are unique.** A record whose id another source holds (a row of the engine, looked up by
  its document id, or an article taken earlier in the run) is skipped with the embedded build's
  problem; a page whose id another folder's page holds gets a qualified id (``more~001``).
- **Where rows go.** An article to shard ``doc_id % n`` of ``write_nodes``, in multi-row
  ``REPLACE`` statements of at most ``BATCH_BYTES`` (Sphinx's ``max_allowed_packet`` is 8 MiB);
  reads (versions, ids, holders, counts) go through the URL's table.
- **Counted.** After writing, the read table must hold previous − removed + added rows; if not,
  ``WriteFailed`` says so (the rows are written: unlike Whoosh's commit, nothing can be undone).

**A killed run** (SIGKILL, a shard that stops answering, Ctrl-C): Sphinx's RT tables have no
transaction across tables, so nothing is all-or-nothing. What is left: the rows of the files
written so far (and the old rows of a file being replaced may be gone). Each file's last row
is written after all its other rows, carrying one more token in ``tags``, ``SEALED``; a file
whose rows carry no seal (or two versions) was cut short, and the next run given that file
deletes its rows and writes it again, like a changed file. So the next run over the same paths
finishes the job, and ends with the rows an uninterrupted run writes; a run over other paths
names such files. Removals are deletions by id, repeated by the next run until done. A rebuild
that is cut short has already emptied the shards: run it again.

Not done as the embedded index does: no lock keeps two runs on one engine apart (the count
check then fails, naming the numbers); articles are prepared in this process (one core; the
engine indexes in its own); the folders indexed before are not remembered, so a run does not
note one that is gone.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from indexer import schema
from indexer.build import (BuildReport, WriteFailed, _warm_up, below, file_tasks, gather_sources,
                           take_id)
from indexer.documents import articles_of, prepare_article
from indexer.engine import (ATTRIBUTES, TEXT_FIELDS, EngineError, Node, Target, connect, doc_id,
                            parse_url, row, tag_token, write_nodes)
from indexer.records import Problem
from indexer.sources import SourceFile, shown

__all__ = ["BATCH_BYTES", "SEALED", "build_engine_index", "indexed_sources", "remove_engine_sources"]

# Statements of at most this much (one row may be bigger: at most ~6 MB within indexer.limits).
BATCH_BYTES = 4 << 20
IDS_PER_STATEMENT = 5000
# On the last row written of each file: the file's rows are all there.
SEALED = tag_token("newsearch", "file written")
COLUMNS = ("id", *TEXT_FIELDS, *(name for name, _ in ATTRIBUTES))


@dataclass(frozen=True)
class Indexed:
    """What the engine holds of one source."""

    fingerprint: str
    articles: int
    complete: bool  # one version, sealed: not left half-written by a killed run


def build_engine_index(paths: list[Path], url: str, *, rebuild: bool = False,
                       progress_factory: Callable | None = None) -> BuildReport:
    """Index the archive files under ``paths`` into the engine at ``url`` (see the module
    docstring).

    Raises ``EngineError`` (a bad URL, an engine that cannot be reached or refuses a statement:
    one line naming HOST:PORT) or ``WriteFailed`` (the engine does not hold what was written).
    """
    started = time.monotonic()
    target = parse_url(url)
    report = BuildReport()
    with _Engine(target) as engine:  # an engine that cannot be reached fails before files are read
        files, catalogs, scope = gather_sources(paths, report)
        _Run(engine, report, progress_factory).index(files, catalogs, scope.owns, rebuild)
    report.seconds = time.monotonic() - started
    return report


def remove_engine_sources(paths: list[Path], url: str) -> BuildReport:
    """Remove from the engine every source that is ``paths`` or lies below one of them."""
    started = time.monotonic()
    target = parse_url(url)
    report = BuildReport()
    with _Engine(target) as engine:
        _Run(engine, report, None).index([], {}, below(paths), rebuild=False)
    if not report.removed:
        report.problems.append(Problem(", ".join(map(shown, paths)), "nothing in the index is from here"))
    report.seconds = time.monotonic() - started
    return report


def indexed_sources(url: str) -> dict[str, Indexed]:
    """source -> what the engine at ``url`` holds of it."""
    with _Engine(parse_url(url)) as engine:
        return engine.sources()


# -- the engine -----------------------------------------------------------------------------------

def _quoted(text: str) -> str:
    """A SphinxQL string literal. Sphinx reads ``\\`` + a character as that character for
    all but a few (``\\n``, ``\\r``, …), so only the backslash and the quote are escaped, not as
    MySQL's escaping does (``\\Z`` would come back as ``Z``)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _value(value) -> str:
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, list):  # a multi-valued attribute: numbers only
        return "(" + ",".join(str(int(v)) for v in value) + ")"
    return str(int(value))


def _values(record: dict) -> bytes:
    """A row as a ``VALUES`` tuple, in ``COLUMNS`` order."""
    return ("(" + ",".join(_value(record[name]) for name in COLUMNS) + ")").encode("utf-8")


def _ids(ids) -> str:
    return ",".join(str(int(i)) for i in ids)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Engine:
    """Connections to the read table's node and to the shards, and the statements a run needs;
    every failure is an ``EngineError`` naming HOST:PORT."""

    def __init__(self, target: Target):
        self.target = target
        self.read = target.read
        self._connections: dict[tuple[str, int], object] = {}
        try:
            self.nodes = write_nodes(target, self._connection(self.read))
        except Exception:
            self.close()
            raise
        if not self.nodes:
            self.close()
            raise EngineError(f"the search engine at {self.read.host}:{self.read.port}: "
                              f"{self.read.table} has no tables to write to")

    def __enter__(self) -> _Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for connection in self._connections.values():
            try:
                connection.close()
            except Exception:
                pass
        self._connections.clear()

    def _connection(self, node: Node):
        key = (node.host, node.port)
        if key not in self._connections:
            self._connections[key] = connect(node)
        return self._connections[key]

    def execute(self, node: Node, sql: str | bytes, args: tuple | None = None) -> tuple[tuple, int]:
        """The rows a statement returns and the rows it affected. A warning is an error: a
        distributed table answers without a shard it cannot reach, and says so only there;
        a run that went on from such an answer would take the missing rows for gone."""
        import pymysql

        connection = self._connection(node)
        try:
            with connection.cursor() as cursor:
                affected = cursor.execute(sql, args)
                found = cursor.fetchall()
                warned = cursor.warning_count
            if warned:
                shown = "; ".join(str(w[-1]) for w in connection.show_warnings())
                raise EngineError(f"the search engine at {node.host}:{node.port} ({node.table}) "
                                  f"answered with a warning: {shown}")
            return found, affected
        except (pymysql.err.MySQLError, OSError) as error:
            self._connections.pop((node.host, node.port), None)
            message = str(error.args[-1] if error.args else error).rstrip("\x00")
            raise EngineError(f"the search engine at {node.host}:{node.port} ({node.table}): {message}") from None

    def rows(self, sql: str, args: tuple | None = None) -> tuple:
        """A query on the read table (``{t}`` in ``sql`` is its name)."""
        return self.execute(self.read, sql.replace("{t}", self.read.table), args)[0]

    def count(self) -> int:
        found = self.rows("SELECT COUNT(*) FROM {t}")
        return int(found[0][0]) if found else 0

    def _grouped(self, where: str, total: int) -> dict[str, int]:
        """version -> rows, for the rows matching ``where``, all groups (checked by their sum
        when ``total`` is given)."""
        limit = 10_000
        while True:
            found = self.rows(f"SELECT version, COUNT(*) c FROM {{t}} {where} GROUP BY version "
                              f"ORDER BY version ASC LIMIT {limit} OPTION max_matches={limit}")
            if len(found) < limit:
                break
            limit *= 4
        counts = {version: int(c) for version, c in found}
        if total is not None and sum(counts.values()) != total:
            raise WriteFailed(f"the engine at {self.target.url} counts {total:,} rows but "
                              f"{sum(counts.values()):,} by file; is another run writing to it?")
        return counts

    def sources(self) -> dict[str, Indexed]:
        """source -> its indexed version, rows and whether it was written whole."""
        versions = self._grouped("", self.count())
        sealed = set(self._grouped(f"WHERE MATCH('@tags {SEALED}')", None)) if versions else set()
        by_source: dict[str, list[str]] = {}
        for version in versions:
            by_source.setdefault(version.rpartition("\t")[0], []).append(version)
        return {source: Indexed(found[-1].rpartition("\t")[2], sum(versions[v] for v in found),
                                len(found) == 1 and found[0] in sealed)
                for source, found in by_source.items()}

    def ids_of(self, source: str, sealed: bool = False) -> list[int]:
        """The document ids of the rows of ``source``, all of them (in pages of ids), or only
        its sealed one(s)."""
        ids: list[int] = []
        last = 0
        token = tag_token("source", source) + (f" {SEALED}" if sealed else "")
        while True:
            found = self.rows(f"SELECT id, source FROM {{t}} WHERE MATCH('@tags {token}') AND id > {last} "
                              f"ORDER BY id ASC LIMIT {IDS_PER_STATEMENT} OPTION max_matches={IDS_PER_STATEMENT}")
            ids.extend(int(i) for i, held in found if held == source)
            if len(found) < IDS_PER_STATEMENT:
                return ids
            last = int(found[-1][0])

    def delete(self, ids: list[int]) -> int:
        """Delete ``ids`` from every shard (an id is on its own shard, unless the shards were
        changed since); the rows deleted."""
        deleted = 0
        for node in self.nodes:
            for chunk in _chunks(ids, IDS_PER_STATEMENT):
                deleted += self.execute(node, f"DELETE FROM {node.table} WHERE id IN ({_ids(chunk)})")[1]
        return deleted

    def delete_source(self, source: str) -> int:
        """Delete the rows of ``source``, its seal first: rows a failure leaves are never taken
        for the whole file."""
        sealed = self.ids_of(source, sealed=True)
        return self.delete(sealed) + self.delete(sorted(set(self.ids_of(source)) - set(sealed)))

    def replace(self, shard: int, values: list[bytes]) -> None:
        node = self.nodes[shard]
        head = f"REPLACE INTO {node.table} ({', '.join(COLUMNS)}) VALUES ".encode("ascii")
        self.execute(node, head + b",".join(values))

    def truncate(self) -> None:
        for node in self.nodes:
            self.execute(node, f"TRUNCATE RTINDEX {node.table}")

    def holders_of(self, article_ids: list[str]) -> dict[str, str]:
        """article id -> the source of the row holding its document id, for those held."""
        by_doc = {doc_id(a): a for a in article_ids}
        held: dict[str, str] = {}
        for chunk in _chunks(list(by_doc), IDS_PER_STATEMENT):
            found = self.rows(f"SELECT id, source FROM {{t}} WHERE id IN ({_ids(chunk)}) "
                              f"LIMIT {len(chunk)} OPTION max_matches={max(len(chunk), 20)}")
            held.update((by_doc[int(i)], source) for i, source in found)
        return held

    def page_sources(self, page_id: str) -> list[str]:
        found = self.rows(f"SELECT source, page FROM {{t}} WHERE MATCH('@tags {tag_token('page', page_id)}') "
                          "GROUP BY source LIMIT 1000 OPTION max_matches=1000")
        return [source for source, page in found if page == page_id]

    def page_of(self, source: str) -> str | None:
        found = self.rows(f"SELECT source, page FROM {{t}} WHERE MATCH('@tags {tag_token('source', source)}') "
                          "LIMIT 20")
        return next((page or None for held, page in found if held == source), None)


class _Holders:
    """Which source holds an article id or a page id (``indexer.build._Holders``'s questions,
    asked of the engine): a row of another source, or what this run has taken so far. The
    source's own rows are the version this run replaces; the rows of sources removed or
    replaced are gone from the engine by the time they are asked about."""

    def __init__(self, engine: _Engine, indexed: set[str]):
        self.engine = engine
        self.indexed = indexed
        self.added: dict[tuple[str, str], str] = {}
        self._ids: dict[str, str | None] = {}  # article id -> holder in the engine (asked in advance)

    def ask_ids(self, article_ids: list[str]) -> None:
        """Look the ids of a task's articles up at once (``holder`` then answers from them)."""
        held = self.engine.holders_of(article_ids)
        self._ids = {a: held.get(a) for a in article_ids}

    def holder(self, fieldname: str, value: str, source: str) -> str | None:
        if (fieldname, value) in self.added:
            return self.added[(fieldname, value)]
        if fieldname == schema.ID_FIELD:
            if value not in self._ids:
                self.ask_ids([value])
            held = self._ids[value]
            return held if held is not None and held != source else None
        return next((held for held in self.engine.page_sources(value) if held != source), None)

    def take(self, fieldname: str, value: str, source: str) -> None:
        self.added[(fieldname, value)] = source

    def indexed_value(self, fieldname: str, source: str) -> str | None:
        assert fieldname == "page"
        return self.engine.page_of(source) if source in self.indexed else None


class _Writer:
    """Rows to their shards in batches; each file's last row held back and written sealed
    once all the file's other rows are written (see the module docstring)."""

    def __init__(self, engine: _Engine):
        self.engine = engine
        self.buffers: list[list[bytes]] = [[] for _ in engine.nodes]
        self.sizes = [0] * len(engine.nodes)
        self.last: dict | None = None  # the current file's last row so far
        self.sealing: list[dict] = []  # last rows of files whose other rows are in the buffers

    def add(self, record: dict) -> None:
        if self.last is not None:
            self._put(self.last)
        self.last = record

    def end_file(self) -> None:
        if self.last is not None:
            self.last["tags"] += f" {SEALED}"
            self.sealing.append(self.last)
            self.last = None

    def _put(self, record: dict) -> None:
        shard = record["id"] % len(self.buffers)
        values = _values(record)
        if self.buffers[shard] and self.sizes[shard] + len(values) > BATCH_BYTES:
            self.flush()
        self.buffers[shard].append(values)
        self.sizes[shard] += len(values) + 1

    def flush(self) -> None:
        """Write every buffer; the files sealed before are then written but for their seals,
        which go to the buffers."""
        ready, self.sealing = self.sealing, []
        for shard, values in enumerate(self.buffers):
            if values:
                self.engine.replace(shard, values)
                self.buffers[shard] = []
                self.sizes[shard] = 0
        for record in ready:
            self._put(record)

    def close(self) -> None:
        self.end_file()
        self.flush()
        self.flush()


class _Run:
    """One run: what to remove, what to (re)index, the writing and the count."""

    def __init__(self, engine: _Engine, report: BuildReport, progress_factory: Callable | None):
        self.engine = engine
        self.report = report
        self.progress_factory = progress_factory

    def index(self, files: list[SourceFile], catalogs, removable: Callable[[str], bool], rebuild: bool) -> None:
        report, engine = self.report, self.engine
        indexed = engine.sources()
        before = sum(i.articles for i in indexed.values())
        current = {f.key for f in files}
        if rebuild:
            report.removed = sorted(source for source in indexed if source not in current)
            report.files_removed = len(report.removed)
            report.articles_removed = sum(indexed[source].articles for source in report.removed)
            engine.truncate()
            indexed, before = {}, 0
        removed = sorted(k for k in indexed if k not in current and removable(k))
        todo = [f for f in files if not self._unchanged(f, indexed)]
        report.files_unchanged = len(files) - len(todo)
        self._say_half_written(indexed, current)
        if todo or removed:
            self._fill(todo, catalogs, indexed, removed)
        expected = before - report.articles_removed + report.articles_added if not rebuild \
            else report.articles_added
        total = engine.count()
        if total != expected:
            raise WriteFailed(f"the engine at {engine.target.url} holds {total:,} articles, {expected:,} "
                              "were expected (the rows written are there; is another run writing to it?)")
        report.articles_total = total

    @staticmethod
    def _unchanged(file: SourceFile, indexed: dict[str, Indexed]) -> bool:
        held = indexed.get(file.key)
        return held is not None and held.complete and held.fingerprint == file.fingerprint

    def _say_half_written(self, indexed: dict[str, Indexed], current: set[str]) -> None:
        cut = sorted(source for source, held in indexed.items() if not held.complete)
        if not cut:
            return
        again = [source for source in cut if source in current]
        others = [source for source in cut if source not in current]
        if again:
            self.report.notes.append(f"files an interrupted run left half-written, written again: {len(again)}")
        if others:
            listed = ", ".join(map(shown, others[:5])) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            self.report.notes.append(f"files an interrupted run left half-written, not among the files "
                                     f"given (index them again): {listed}")

    def _fill(self, todo: list[SourceFile], catalogs, indexed: dict[str, Indexed], removed: list[str]) -> None:
        report, engine = self.report, self.engine
        for source in removed:
            report.articles_removed += engine.delete_source(source)
        report.files_removed += len(removed)
        report.removed += removed
        replaced: set[str] = set(removed)
        holders = _Holders(engine, set(indexed))
        writer = _Writer(engine)
        added: Counter = Counter()
        _warm_up()
        progress = self.progress_factory(sum(f.path.stat().st_size for f in todo), "indexing") \
            if self.progress_factory else None
        writing = None
        for task in file_tasks(todo, catalogs, holders, report):
            file = task.file
            if file.key != writing:
                writer.end_file()
                writing = file.key
            articles, problems = articles_of(task)
            report.problems.extend(problems)
            if articles and file.key in indexed and file.key not in replaced:
                report.articles_removed += engine.delete_source(file.key)
                replaced.add(file.key)
            holders.ask_ids([article.id for article in articles])
            for article in articles:
                if take_id(holders, article, report):
                    writer.add(row(prepare_article(article, file.fingerprint, task.catalog)))
                    added[file.key] += 1
                    report.articles_added += 1
                    report.chars_indexed += len(article.text)
            if progress:
                progress.advance(task.size, f"{report.articles_added} articles")
        writer.close()
        if progress:
            progress.close()
        report.files_indexed = len(added)
        for file in todo:
            if file.key in indexed and file.key not in replaced:
                report.problems.append(Problem(shown(file.path), "nothing could be read from the new version; "
                                               "the version indexed before is kept", skipped=False))
