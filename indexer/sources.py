"""Reading an archive: which files, their bytes decoded, JSON Lines records, the catalog.

Nothing here segments or indexes; problems are returned as ``Problem`` values, never raised,
so that one bad file or line never stops the good ones from being indexed.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from indexer.normalize import HAN
from indexer.records import Article, CatalogEntry, Page, Problem

PAGE_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
CATALOG_NAME = "catalog.csv"
CATALOG_FIELDS = ("file", "date", "year", "paper", "page", "city", "year_evidence")

_HAN_RE = re.compile(f"[{HAN}]")


class DecodeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One input file of the archive and its content fingerprint."""

    path: Path
    source: str  # relative to the archive root, "/" separated
    fingerprint: str  # sha1 of the bytes

    @property
    def is_jsonl(self) -> bool:
        return self.source.endswith(JSONL_SUFFIXES)


def is_source_name(name: str) -> bool:
    return name.endswith(PAGE_SUFFIXES + JSONL_SUFFIXES)


def fingerprint(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_sources(paths: list[Path]) -> Iterator[SourceFile | Problem]:
    """Input files under ``paths`` (files or folders), in a stable order."""
    for root in paths:
        if root.is_file():
            yield SourceFile(root, root.name, fingerprint(root))
            continue
        if not root.is_dir():
            yield Problem(str(root), "no such file or folder")
            continue
        for folder, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or not is_source_name(name):
                    continue
                path = Path(folder, name)
                source = path.relative_to(root).as_posix()
                yield SourceFile(path, source, fingerprint(path))


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding of a page file: UTF-8 (with or without BOM), else GB18030.

    Raises ``DecodeError`` for binary data and for bytes that are neither.
    """
    if b"\x00" in data:
        raise DecodeError("binary file (contains NUL bytes)")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise DecodeError(f"not valid UTF-8 after its BOM (byte {error.start + 3})") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise DecodeError(
                f"not UTF-8 (bad byte at offset {utf8_error.start}) and not GB18030"
            ) from None
        # GB18030 decodes almost anything; accept it only if it reads as Chinese text.
        non_ascii = sum(1 for char in text if ord(char) > 0x7F)
        han = len(_HAN_RE.findall(text))
        if non_ascii and han / non_ascii < 0.8:
            raise DecodeError(
                f"not UTF-8 (bad byte at offset {utf8_error.start}) and not GB18030 Chinese text"
            )
        return text, "gb18030"


def read_page(file: SourceFile, catalog: dict[str, CatalogEntry]) -> Page | Problem:
    try:
        data = file.path.read_bytes()
    except OSError as error:
        return Problem(file.source, f"cannot read: {error.strerror}")
    if not data.strip():
        return Problem(file.source, "empty file")
    try:
        text, encoding = decode(data)
    except DecodeError as error:
        return Problem(file.source, str(error))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return Problem(file.source, "empty file")
    entry = catalog.get(file.source) or catalog.get(file.path.name)
    return Page(file.source, text, encoding, entry)


def open_lines(path: Path) -> io.BufferedReader:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def jsonl_batches(file: SourceFile, size: int = 200) -> Iterator[list[tuple[int, bytes]]]:
    """Numbered raw lines of a JSON Lines file, in batches (workers parse them)."""
    batch: list[tuple[int, bytes]] = []
    with open_lines(file.path) as handle:
        for number, line in enumerate(handle, start=1):
            batch.append((number, line))
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


_OPTIONAL_STR = ("date", "city", "source", "url", "subtitle")


def parse_record(source: str, number: int, line: bytes) -> Article | Problem | None:
    """One JSON Lines record as an ``Article``; ``None`` for a blank line."""
    if not line.strip():
        return None
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
    for key in ("id", "text"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            return Problem(source, f'missing or empty "{key}" (a string is required)', number)
    if "title" in data and not isinstance(data["title"], str):
        return Problem(source, '"title" must be a string', number)
    for key in _OPTIONAL_STR:
        if data.get(key) is not None and not isinstance(data[key], str):
            return Problem(source, f'"{key}" must be a string', number)
    date = (data.get("date") or "").strip()
    if date and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", date):
        return Problem(source, f'"date" must look like YYYY, YYYY-MM or YYYY-MM-DD, not {date!r}', number)
    districts = _str_list(data.get("district"))
    topics = _str_list(data.get("topic"))
    if districts is None or topics is None:
        return Problem(source, '"district" and "topic" must be a string or a list of strings', number)
    record_id = data["id"].strip()
    if len(record_id) > 200:
        return Problem(source, '"id" is longer than 200 characters', number)
    return Article(
        id=record_id,
        source=source,
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
        paper=(data.get("source") or "").strip(),
        url=(data.get("url") or "").strip(),
    )


def _str_list(value) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in (part.strip() for part in value.split(",")) if v]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    return None


def load_catalog(root: Path) -> tuple[dict[str, CatalogEntry], list[Problem]]:
    """``catalog.csv`` beside the pages (columns ``CATALOG_FIELDS``), keyed by file name."""
    path = root / CATALOG_NAME
    if not root.is_dir() or not path.is_file():
        return {}, []
    entries: dict[str, CatalogEntry] = {}
    problems: list[Problem] = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in ("file",) if name not in (reader.fieldnames or [])]
        if missing:
            return {}, [Problem(str(path), "catalog needs a 'file' column")]
        for row in reader:
            number = reader.line_num
            name = (row.get("file") or "").strip()
            if not name:
                problems.append(Problem(str(path), "row without a file name", number))
                continue
            year_text = (row.get("year") or "").strip()
            date = (row.get("date") or "").strip()
            if year_text and not year_text.isdigit():
                problems.append(Problem(str(path), f"year {year_text!r} is not a number", number))
                continue
            year = int(year_text) if year_text else (int(date[:4]) if date[:4].isdigit() else None)
            entries[name] = CatalogEntry(
                file=name,
                date=date,
                year=year,
                paper=(row.get("paper") or "").strip(),
                page=(row.get("page") or "").strip(),
                city=(row.get("city") or "").strip(),
                year_evidence=(row.get("year_evidence") or "").strip(),
            )
    return entries, problems
