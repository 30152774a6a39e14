"""The index folder on disk, beside Whoosh's own files.

- **Who writes.** One ``newsearch index`` at a time holds ``.<index>.lock`` (beside the folder,
  so a first build, which has no folder yet, is covered too). The lock is an ``flock``: the
  system releases it when its holder dies, so a killed run never blocks the next one. The pid
  inside says who holds it; a pid left in the file means the last run did not finish, and the
  next run says so and cleans up after it.
- **What a generation holds beyond Whoosh's files**: the roots indexed into it and the schema
  version, in ``newsearch.<generation>.json``. It is written *before* the generation's table of
  contents (Whoosh's commit point), so a reader of generation N always finds its meta file.
- **Leftovers** of a killed run: a half-built sibling folder, Whoosh's temporary folder (sorting
  runs), segment files no table of contents lists, meta files of generations that never were.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import time
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, EmptyIndexError, FileIndex

from indexer import schema

INDEX_NAME = "MAIN"  # Whoosh's default index name: its files are MAIN_*.seg, _MAIN_<gen>.toc
_META = re.compile(r"newsearch\.(\d+)\.json$")
LOCK_WAIT_SECONDS = 10.0  # for workers of a killed run, which exit within a second or two


class IndexBusy(Exception):
    """Another run is writing the index."""


def exists(index_dir: Path) -> bool:
    try:
        return index_dir.is_dir() and TOC._latest_generation(FileStorage(str(index_dir)), INDEX_NAME) >= 0
    except OSError:
        return False


def generation(index_dir: Path) -> int:
    return TOC._latest_generation(FileStorage(str(index_dir)), INDEX_NAME)


def building_dir(index_dir: Path) -> Path:
    """Where a first build is written before it is renamed into place."""
    return index_dir.parent / f".{index_dir.name}.building-{os.getpid()}"


def read_meta(index_dir: Path, gen: int | None = None) -> dict:
    """The meta data of generation ``gen`` (default: the latest); {} when there is none."""
    try:
        gen = generation(index_dir) if gen is None else gen
        return json.loads((index_dir / f"newsearch.{gen}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def write_meta(index_dir: Path, gen: int, meta: dict) -> None:
    """Write generation ``gen``'s meta data (atomically: a temporary file renamed)."""
    target = index_dir / f"newsearch.{gen}.json"
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
    os.replace(temporary, target)


class WriteLock:
    """``with WriteLock(index_dir) as lock:`` — the right to write ``index_dir``.

    ``lock.interrupted`` is the pid of an earlier run that held the lock and did not finish
    (``None`` if the last run finished). Raises ``IndexBusy`` while a live run holds it.
    """

    def __init__(self, index_dir: Path):
        self.path = index_dir.parent / f".{index_dir.name}.lock"
        self.index_dir = index_dir
        self.interrupted: int | None = None
        self._fd: int | None = None

    def __enter__(self) -> "WriteLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
            holder = _pid_in(fd)
            if (holder and _alive(holder)) or time.monotonic() > deadline:
                os.close(fd)
                who = f"(pid {holder}) " if holder and _alive(holder) else ""
                raise IndexBusy(f"another `newsearch index` {who}is writing {self.index_dir}; "
                                "wait for it to finish, or stop it")
            time.sleep(0.1)  # the holders are workers of a dead run, exiting: poll until they have
        previous = _pid_in(fd)
        self.interrupted = previous if previous and previous != os.getpid() else None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        """A run that ends, even by an exception, has cleaned up after itself: clear the pid."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _pid_in(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(index_dir: Path) -> list[Path]:
    """What killed runs left behind (call only while holding the write lock)."""
    found = sorted(index_dir.parent.glob(f".{index_dir.name}.building-*"))
    found += sorted(index_dir.parent.glob(f".{index_dir.name}.old-*"))
    if not exists(index_dir):
        return found
    storage = FileStorage(str(index_dir))
    try:
        toc = TOC.read(storage, INDEX_NAME, schema=schema.build_schema())
    except (EmptyIndexError, OSError, ValueError):
        return found
    live = {segment.segment_id() for segment in toc.segments}
    toc_name = TOC._pattern(INDEX_NAME)
    segment_name = TOC._segment_pattern(INDEX_NAME)
    for entry in sorted(index_dir.iterdir()):
        name = entry.name
        toc_match, segment_match, meta_match = toc_name.match(name), segment_name.match(name), _META.match(name)
        if (name.endswith(".tmp") or name == "newsearch.json"  # (the meta file of schema version 2)
                or (toc_match and int(toc_match.group(1)) != toc.generation)
                or (segment_match and segment_match.group(1) not in live)
                or (meta_match and int(meta_match.group(1)) > toc.generation)):
            found.append(entry)
    return found


def remove(paths: list[Path]) -> int:
    """Delete files and folders; the number of bytes freed."""
    freed = 0
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            freed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                freed += path.stat().st_size
                path.unlink()
            except OSError:
                pass
    return freed


def old_meta_files(index_dir: Path, keep: int) -> list[Path]:
    """Meta files of generations before ``keep`` (Whoosh has deleted their tables of contents)."""
    return [entry for entry in index_dir.iterdir()
            if (match := _META.match(entry.name)) and int(match.group(1)) < keep]


def live_terms(reader, fieldname: str) -> dict[str, int]:
    """term -> number of live documents, for every term of ``fieldname`` (an id-like field)."""
    counts: dict[str, int] = {}
    if fieldname not in reader.schema:
        return counts
    deletions = reader.has_deletions()
    for term in reader.lexicon(fieldname):
        if deletions:
            live = sum(1 for d in reader.postings(fieldname, term).all_ids() if not reader.is_deleted(d))
        else:
            live = reader.doc_frequency(fieldname, term)
        if live:
            counts[term.decode("utf-8")] = live
    return counts


def open_for_writing(index_dir: Path) -> FileIndex:
    """The index with this version's schema (not the one pickled in it, which may name classes
    that have moved): the next generation is written with it."""
    return FileIndex(FileStorage(str(index_dir)), schema=schema.build_schema(), indexname=INDEX_NAME)
