"""Reading an archive: which files, in which input format, read into articles; the catalog.

An input format is one ``InputFormat`` subclass: which files it reads (``suffixes``), how a file
is cut into ``Task``s (plain data: units of work that can be sent to another process) and how
a task is read into ``Article``s. ``FORMATS`` lists them (``PageFormat``: ``.txt`` newspaper
pages; ``JsonLinesFormat``: ``.jsonl`` / ``.jsonl.gz`` records); adding a format is adding a
class and an instance there (or, for a while, ``registered``).

Nothing here normalises, segments or indexes; problems are given as ``Problem`` values, never
raised, so that one bad file or line never stops the good ones from being indexed.
"""

from __future__ import annotations

import csv
import errno
import gzip
import hashlib
import io
import json
import os
import re
import stat
import zlib
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from indexer import dates
from indexer.articles import split_page
from indexer.metadata import infer_year
from indexer.normalize import HAN, normalize
from indexer.records import Article, CatalogEntry, Page, Problem

CATALOG_NAME = "catalog.csv"
# A page file is read whole, a JSON Lines file a line at a time: these bound the memory they take
# (a real page is tens of kilobytes; indexing takes about 100 bytes of memory per character).
MAX_PAGE_BYTES = 16 << 20
MAX_LINE_BYTES = 16 << 20
CATALOG_FIELDS = ("file", "date", "year", "paper", "page", "city", "year_evidence")

_HAN_RE = re.compile(f"[{HAN}]")


class DecodeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One input file of the archive, and the format it is read in.

    ``key`` is what the index knows it by: its absolute path, so that files of the same name in
    different folders never replace each other. ``relative`` is its path below the folder it
    was found in (``root``), which page ids and the catalog use; ``label`` is what people see
    (the root folder's name and the relative path).
    """

    path: Path
    root: str  # absolute path of the folder the file was found in (or given beside)
    relative: str  # path below ``root``, "/" separated
    fingerprint: str  # sha1 of the bytes
    format: InputFormat

    @property
    def key(self) -> str:
        return f"{self.root.rstrip('/')}/{self.relative}"

    @property
    def label(self) -> str:
        return f"{Path(self.root).name}/{self.relative}" if Path(self.root).name else self.relative


@dataclass(frozen=True, slots=True)
class Scope:
    """What one run was given: folders (whose vanished files are removed from the index) and
    single files, and the folders below them that could not be read (whose indexed files are
    kept, since nothing can be said about them)."""

    folders: tuple[str, ...]
    unreadable: tuple[str, ...]

    def owns(self, key: str) -> bool:
        """Whether the indexed source ``key`` should be removed when it was not found."""
        inside = lambda folder: key.startswith(folder.rstrip("/") + "/")  # noqa: E731
        return any(map(inside, self.folders)) and not any(map(inside, self.unreadable))


@dataclass(frozen=True, slots=True)
class Task:
    """A unit of work: a part of one file (a whole page, a batch of lines) that the file's format
    reads (``file.format.articles``). Plain data, so that it can be read in another process."""

    file: SourceFile
    size: int  # the input bytes it stands for (for progress)
    catalog: CatalogEntry | None  # the file's catalog entry, which wins over what is inferred


@dataclass(frozen=True, slots=True)
class PageTask(Task):
    """A whole page file, with the id its articles are numbered under."""

    page_id: str


@dataclass(frozen=True, slots=True)
class LinesTask(Task):
    """A batch of numbered lines of a JSON Lines file (read while the file is cut into tasks,
    so that it is read once, as a stream)."""

    lines: tuple[tuple[int, bytes], ...]


class InputFormat(ABC):
    """How one kind of archive file is read: which files (``suffixes``), cut into which tasks,
    read into which articles. A new format is a subclass, listed in ``FORMATS``.

    ``tasks`` runs in the indexing process, a file at a time; ``articles`` may run in another
    one, so a task carries all that reading it needs and a format holds no state.
    """

    suffixes: tuple[str, ...] = ()  # the names of the files it reads end so

    def matches(self, relative: str) -> bool:
        """Whether the file at ``relative`` (its path below its folder) is read in this format."""
        return relative.endswith(self.suffixes)

    def too_big(self, size: int) -> str | None:
        """Why a file of ``size`` bytes is not read at all (``None``: it is read)."""
        return None

    @abstractmethod
    def tasks(self, file: SourceFile, catalog: CatalogEntry | None,
              page_id: Callable[[], str]) -> Iterator[Task | Problem]:
        """``file`` cut into tasks, and what was wrong while cutting it, in file order.

        ``catalog`` is the file's catalog entry; ``page_id()`` is the id of the page the file
        holds (the caller decides it, since it knows which ids are taken; a format whose files
        are not pages does not ask for one).
        """

    @abstractmethod
    def articles(self, task: Task) -> Iterator[Article | Problem]:
        """What ``task`` holds, in file order: its articles as read (before limits,
        normalisation and segmentation) and the problems. A ``"record"`` article's
        ``position`` is its line in the file, which problems about it name."""

    # A format holds no state: two of one class are the same format (also after pickling).
    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def shown(path: str | Path) -> str:
    """A path as it can be printed: bytes that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def fingerprint(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def absolute(path: Path) -> Path:
    """``path`` made absolute with symbolic links resolved (one spelling per folder)."""
    return Path(os.path.realpath(path))


def _source_file(path: Path, root: Path, relative: str, fmt: InputFormat) -> SourceFile | Problem:
    """A file found under ``root``, to be read in ``fmt``, or the problem that keeps it out."""
    where = shown(path)
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return Problem(where, "file name is not valid UTF-8; rename the file")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        target = os.readlink(path) if os.path.islink(path) else "?"
        return Problem(where, f"broken symbolic link (points to {shown(target)})")
    except OSError as error:
        if error.errno == errno.ELOOP:
            return Problem(where, "symbolic link loop")
        return Problem(where, f"cannot read: {error.strerror}")
    if stat.S_ISDIR(info.st_mode):
        return Problem(where, "is a folder named like a file (it is not read)")
    if not stat.S_ISREG(info.st_mode):
        return Problem(where, "not a regular file")
    if too_big := fmt.too_big(info.st_size):
        return Problem(where, too_big)
    try:
        return SourceFile(path, str(root), relative, fingerprint(path), fmt)
    except OSError as error:
        return Problem(where, f"cannot read: {error.strerror}")


def find_sources(paths: list[Path]) -> tuple[list[SourceFile | Problem], Scope]:
    """Input files under ``paths`` (files or folders), in a stable order, and the run's scope.

    An input file is one a format in ``FORMATS`` matches; a file given by name that none
    matches is a problem, and a folder's other files are passed over.

    A folder is walked (hidden entries and symbolic links to folders are not followed); a
    file given by name belongs to the folder it is in, so it is the same source whether it is
    indexed alone or with its folder.
    """
    found: list[SourceFile | Problem] = []
    folders: list[str] = []
    unreadable: list[str] = []
    for given in paths:
        try:
            str(given).encode("utf-8")
        except UnicodeEncodeError:
            found.append(Problem(shown(given), "path is not valid UTF-8"))
            continue
        if os.path.isdir(given):
            root = absolute(given)
            folders.append(str(root))
            found.extend(_walk(root, unreadable))
        elif os.path.lexists(given):
            if (fmt := format_of(given.name)) is None:
                found.append(Problem(shown(given), f"not an archive file ({suffixes()})"))
                continue
            root = absolute(given.parent)
            found.append(_source_file(given, root, given.name, fmt))
        else:
            found.append(Problem(shown(given), "no such file or folder"))
    return found, Scope(tuple(folders), tuple(unreadable))


def _walk(root: Path, unreadable: list[str]) -> Iterator[SourceFile | Problem]:
    problems: list[Problem] = []

    def cannot_read(error: OSError) -> None:
        folder = error.filename or str(root)
        unreadable.append(os.path.abspath(folder))
        problems.append(Problem(shown(folder), f"cannot read folder: {error.strerror}; "
                                               "its files already in the index are kept"))

    for folder, dirnames, filenames in os.walk(root, onerror=cannot_read):
        yield from problems
        problems.clear()
        named_like_files = {d for d in dirnames if format_of(d) is not None}
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in named_like_files)
        for name in sorted(filenames + list(named_like_files)):
            if name.startswith(".") or (fmt := format_of(name)) is None:
                continue
            path = Path(folder, name)
            yield _source_file(path, root, path.relative_to(root).as_posix(), fmt)
    yield from problems


def _looks_chinese(text: str) -> bool:
    """GB18030 decodes almost any bytes: accept its reading only if it reads as Chinese."""
    non_ascii = sum(1 for char in text if ord(char) > 0x7F)
    return not non_ascii or len(_HAN_RE.findall(text)) / non_ascii >= 0.8


def decode(data: bytes) -> tuple[str, str, str]:
    """Text, encoding and a warning ("" if none) of a page file: UTF-8 (with or without BOM),
    else GB18030; a file whose lines mix the two is read line by line, and the warning names
    the lines that were not UTF-8.

    Raises ``DecodeError`` for binary data and for bytes that are neither.
    """
    if b"\x00" in data:
        raise DecodeError("binary file (contains NUL bytes)")
    bom = data.startswith(b"\xef\xbb\xbf")
    data = data[3:] if bom else data
    try:
        return data.decode("utf-8"), "utf-8-sig" if bom else "utf-8", ""
    except UnicodeDecodeError as utf8_error:
        failure = f"not UTF-8 (bad byte at offset {utf8_error.start})"
    lines = data.split(b"\n")
    utf8_lines = [line for line in lines if not line.isascii() and _is_utf8(line)]
    if not utf8_lines:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise DecodeError(f"{failure} and not GB18030") from None
        if not _looks_chinese(text):
            raise DecodeError(f"{failure} and not GB18030 Chinese text")
        return text, "gb18030", ""
    decoded, odd = [], []
    for number, line in enumerate(lines, start=1):
        if _is_utf8(line):
            decoded.append(line.decode("utf-8"))
            continue
        text = line.decode("gb18030", "replace")
        if not _looks_chinese(text):
            raise DecodeError(f"{failure}; line {number} is neither UTF-8 nor GB18030 Chinese text")
        decoded.append(text)
        odd.append(number)
    shown_lines = ", ".join(map(str, odd[:10])) + (" …" if len(odd) > 10 else "")
    return "\n".join(decoded), "mixed", f"mixed encodings: line {shown_lines} read as GB18030, the rest as UTF-8"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_page(file: SourceFile, catalog: CatalogEntry | None, page_id: str) -> tuple[Page | None, list[Problem]]:
    """A page file decoded (``None`` if it cannot be read) and what was wrong with it."""
    where = shown(file.path)
    try:
        data = file.path.read_bytes()
    except OSError as error:
        return None, [Problem(where, f"cannot read: {error.strerror}")]
    if not data.strip():
        return None, [Problem(where, "empty file")]
    try:
        text, encoding, warning = decode(data)
    except DecodeError as error:
        return None, [Problem(where, str(error))]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return None, [Problem(where, "empty file")]
    warnings = [Problem(where, warning, skipped=False)] if warning else []
    return Page(file.key, file.label, page_id, text, encoding, catalog), warnings


def page_id_of(relative: str) -> str:
    """The id of the page in a file: its path below the archive folder, without suffix."""
    return relative.rsplit(".", 1)[0].replace("/", "~")


def open_lines(path: Path) -> io.BufferedReader:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def jsonl_lines(file: SourceFile) -> Iterator[tuple[int, bytes] | Problem]:
    """Numbered raw lines of a JSON Lines file, and problems: a line over ``MAX_LINE_BYTES``
    (skipped), a file that cannot be read or a gzip stream that is corrupt or cut short (the
    lines before it are kept)."""
    where = shown(file.path)
    number = 0
    try:
        with open_lines(file.path) as handle:
            while line := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(line) > MAX_LINE_BYTES:
                    while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass
                    yield Problem(where, f"line over the {MAX_LINE_BYTES:,}-byte limit", number)
                    continue
                yield number, line
    except (OSError, EOFError, zlib.error) as error:
        kind = "corrupt or truncated gzip file" if file.path.name.endswith(".gz") else "cannot read"
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        kept = f"; its first {number} lines were read" if number else ""
        yield Problem(where, f"{kind} ({reason}){kept}", number + 1 if number else None)


def jsonl_batches(file: SourceFile, size: int = 200) -> Iterator[tuple[tuple[int, bytes], ...] | Problem]:
    """``jsonl_lines`` in batches of lines (problems pass through as they come)."""
    batch: list[tuple[int, bytes]] = []
    for item in jsonl_lines(file):
        if isinstance(item, Problem):
            yield item
            continue
        batch.append(item)
        if len(batch) >= size:
            yield tuple(batch)
            batch = []
    if batch:
        yield tuple(batch)


_OPTIONAL_STR = ("date", "city", "paper", "source", "url", "subtitle")


def parse_record(file: SourceFile, number: int, line: bytes) -> list[Article | Problem]:
    """One JSON Lines record: its ``Article`` and the warnings about it (a date that does not
    exist, cut to its year), or the ``Problem`` that keeps it out; ``[]`` for a blank line."""
    if not line.strip():
        return []
    read = _record(file, number, line)
    return read if isinstance(read, list) else [read]


def _record(file: SourceFile, number: int, line: bytes) -> list[Article | Problem] | Problem:
    """``parse_record`` of a line that is not blank: the problem that keeps it out, or the
    warnings about it and its article."""
    source = shown(file.path)
    try:
        text = line.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        return Problem(source, f"not UTF-8 (byte {error.start})", number)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return Problem(source, f"invalid JSON: {error.msg} (column {error.colno})", number)
    if not isinstance(data, dict):
        return Problem(source, "a line must be a JSON object", number)
    for key, value in data.items():
        if isinstance(value, str) and not _is_text(value):
            return Problem(source, f'"{key}" holds an unpaired surrogate escape (not text)', number)
    for key in ("id", "text"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            return Problem(source, f'missing or empty "{key}" (a string is required)', number)
    if "title" in data and not isinstance(data["title"], str):
        return Problem(source, '"title" must be a string', number)
    for key in _OPTIONAL_STR:
        if data.get(key) is not None and not isinstance(data[key], str):
            return Problem(source, f'"{key}" must be a string', number)
    try:
        date, date_problem = dates.read_date(data.get("date") or "")
    except dates.DateError as error:
        return Problem(source, f'"date" {error}', number)
    warnings = [Problem(source, f'"date" {date_problem}', number, skipped=False)] if date_problem else []
    districts = _str_list(data.get("district"))
    topics = _str_list(data.get("topic"))
    if districts is None or topics is None:
        return Problem(source, '"district" and "topic" must be a string or a list of strings', number)
    record_id = data["id"].strip()
    if len(record_id) > 200:
        return Problem(source, '"id" is longer than 200 characters', number)
    if any(char.isspace() or not char.isprintable() for char in record_id):
        return Problem(source, '"id" must not contain spaces or control characters', number)
    return [*warnings, Article(
        id=record_id,
        source=file.key,
        file=file.label,
        text=data["text"],
        title=(data.get("title") or "").strip(),
        subtitle=(data.get("subtitle") or "").strip(),
        kind="record",
        page_id="",
        position=number,
        date=date,
        year=int(date[:4]) if date else None,
        city=(data.get("city") or "").strip(),
        districts=districts,
        topics=topics,
        paper=(data.get("paper") or data.get("source") or "").strip(),  # "source": its older name
        url=(data.get("url") or "").strip(),
    )]


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _str_list(value) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in (part.strip() for part in value.split(",")) if v]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    return None


class PageFormat(InputFormat):
    """Newspaper pages: text files (UTF-8 or GB18030, see ``decode``) read whole and split into
    their articles (``indexer.articles``); a file is one task."""

    suffixes = (".txt",)

    def too_big(self, size: int) -> str | None:
        if size <= MAX_PAGE_BYTES:
            return None
        return (f"page file of {size:,} bytes is over the {MAX_PAGE_BYTES:,}-byte limit; "
                "split it into smaller files")

    def tasks(self, file: SourceFile, catalog: CatalogEntry | None,
              page_id: Callable[[], str]) -> Iterator[Task | Problem]:
        yield PageTask(file, file.path.stat().st_size, catalog, page_id())

    def articles(self, task: PageTask) -> Iterator[Article | Problem]:
        page, problems = read_page(task.file, task.catalog, task.page_id)
        yield from problems
        if page is None:
            return
        articles = split_page(page)
        # A page has one year: inferred once from the whole page, unless the catalog gives it.
        if page.catalog is None or page.catalog.year is None:
            year, evidence = infer_year(normalize(page.text))
            for article in articles:
                article.year, article.year_inferred, article.year_evidence = year, year is not None, evidence
        yield from articles


class JsonLinesFormat(InputFormat):
    """Records, one JSON object a line (``parse_record``), plain or gzip-compressed; a task is a
    batch of lines, so that a file of any size streams through. The catalog, which describes
    pages, is not used: a record says its own date, city and source."""

    suffixes = (".jsonl", ".jsonl.gz")

    def tasks(self, file: SourceFile, catalog: CatalogEntry | None,
              page_id: Callable[[], str]) -> Iterator[Task | Problem]:
        for batch in jsonl_batches(file):
            if isinstance(batch, Problem):
                yield batch
            else:
                yield LinesTask(file, sum(len(line) for _, line in batch), catalog=None, lines=batch)

    def articles(self, task: LinesTask) -> Iterator[Article | Problem]:
        for number, line in task.lines:
            yield from parse_record(task.file, number, line)


FORMATS: list[InputFormat] = [PageFormat(), JsonLinesFormat()]
"""The formats archive files are read in: a file is read in the first one that matches it."""


def suffixes() -> str:
    """The file name endings the formats read: ".txt, .jsonl or .jsonl.gz"."""
    *others, last = (suffix for each in FORMATS for suffix in each.suffixes)
    return f"{', '.join(others)} or {last}" if others else last


def format_of(relative: str) -> InputFormat | None:
    """The format the file at ``relative`` is read in; ``None`` if it is no archive file."""
    return next((fmt for fmt in FORMATS if fmt.matches(relative)), None)


@contextmanager
def registered(fmt: InputFormat) -> Iterator[InputFormat]:
    """``fmt`` in ``FORMATS`` (after the others) for the time of a ``with`` block."""
    at = len(FORMATS)
    FORMATS.append(fmt)
    try:
        yield fmt
    finally:
        del FORMATS[at]


def load_catalog(root: Path) -> tuple[dict[str, CatalogEntry], list[Problem]]:
    """``catalog.csv`` in the folder ``root`` (columns ``CATALOG_FIELDS``; UTF-8 or GB18030),
    keyed by the file's path below ``root``."""
    path = root / CATALOG_NAME
    if not path.is_file():
        return {}, []
    where = shown(path)
    try:
        text, _, warning = decode(path.read_bytes())
    except OSError as error:
        return {}, [Problem(where, f"cannot read: {error.strerror}; the catalog is not used")]
    except DecodeError as error:
        return {}, [Problem(where, f"{error}; the catalog is not used")]
    entries: dict[str, CatalogEntry] = {}
    problems = [Problem(where, warning, skipped=False)] if warning else []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if "file" not in (reader.fieldnames or []):
            return {}, [Problem(where, "catalog needs a 'file' column; the catalog is not used")]
        for row in reader:
            number = reader.line_num
            name = (row.get("file") or "").strip()
            if not name:
                problems.append(Problem(where, "row without a file name", number))
                continue
            year_text = (row.get("year") or "").strip()
            if year_text and not year_text.isdigit():
                problems.append(Problem(where, f"year {year_text!r} is not a number", number))
                continue
            try:
                date, date_problem = dates.read_date(row.get("date") or "")
            except dates.DateError as error:
                date, date_problem = "", f"{error}; the row's date is not used"
            if date_problem:
                problems.append(Problem(where, f"date {date_problem}", number, skipped=False))
            year = int(year_text) if year_text else (int(date[:4]) if date else None)
            entries[name] = CatalogEntry(
                file=name,
                date=date,
                year=year,
                paper=(row.get("paper") or "").strip(),
                page=(row.get("page") or "").strip(),
                city=(row.get("city") or "").strip(),
                year_evidence=(row.get("year_evidence") or "").strip(),
            )
    except csv.Error as error:
        problems.append(Problem(where, f"not a valid CSV file ({error}); rows after this are not used",
                                reader.line_num))
    return entries, problems


def catalog_entry(catalog: dict[str, CatalogEntry], file: SourceFile) -> CatalogEntry | None:
    """The catalog row of ``file``: by its path below the archive folder, else its file name."""
    return catalog.get(file.relative) or catalog.get(file.path.name)
