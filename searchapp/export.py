"""Export: the whole result set of a query, not one page, as CSV or JSON Lines.

The articles are the search's (``core.result_set``: the same matching and filters) in the
search's order (``core.ordered``: relevance, or newest first with ``sort=date``), one plain dict
each (``COLUMNS``). They are produced lazily, their stored fields read a batch at a time (in
index order within a batch), so an export of 100,000 articles holds one batch of articles in
memory besides the order itself. ``settings.EXPORT_MAX_ROWS`` caps an export (a front end may
lower the cap; ``limit`` asks for fewer); ``Export`` says the total and whether it was cut.

The writers make text chunks: CSV (Python's ``csv``, a header row, a byte order mark first so
that Excel and WPS read the file as UTF-8, lists joined with 、, cells that would be read as
formulas defused; the concordance writes its CSV with it too) and JSON Lines (one object per
line, lists kept). No Flask and no argparse here: the API streams the chunks, the CLI writes them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping
from urllib.parse import quote

from indexer import fields
from searchapp import core, settings
from searchapp.query import QueryError
from searchapp.request import Query, int_param
from searchapp.store import SearchIndex

COLUMNS = ("id", "title", "date", "year", "paper", "page_label", "city", "districts", "topics",
           "reporters", "source", "url", "score")
LIST_COLUMNS = ("districts", "topics", "reporters")
LIST_SEPARATOR = "、"
BATCH_SIZE = 200  # articles whose stored fields are read at a time
CHUNK_CHARS = 64 * 1024  # text gathered before a chunk is handed on
BOM = "\ufeff"
EXPORT_PARAMS = ("format", "limit")  # besides the query's


def permalink(article_id: str) -> str:
    """The article page's path: the ``url`` of the CLI's rows, which knows no host (the API
    gives the page's absolute URL, as a citation's permalink)."""
    return "/articles/" + quote(article_id)


def article_row(values: dict, score: float, link: Callable[[str], str] = permalink) -> dict:
    """One article's row from its stored values (``fields.stored_values``); ``link(id)`` is
    its ``url``."""
    return {
        "id": values["id"], "title": values["title"], "date": values["date"], "year": values["year"],
        "paper": values["paper"], "page_label": values["page_label"], "city": values["city"],
        "districts": values["district"], "topics": values["topic"], "reporters": values["reporter"],
        "source": values["file"] or values["source"], "url": link(values["id"]),
        "score": round(score, 4),
    }


@dataclass(frozen=True)
class Export:
    """An export under way: the query's total, the cap applied, and the rows (lazy: reading
    them orders the result set and reads the articles)."""

    total: int
    limit: int
    rows: Iterator[dict]

    @property
    def count(self) -> int:
        """Rows the export holds."""
        return min(self.total, self.limit)

    @property
    def truncated(self) -> bool:
        return self.total > self.limit


def export(index: SearchIndex, query: Query, limit: int = settings.EXPORT_MAX_ROWS,
           link: Callable[[str], str] = permalink) -> Export:
    """The first ``limit`` articles of ``query``'s result set, in the search's order (the page
    and page size of ``query`` do not matter); ``link(id)`` makes a row's ``url``."""
    found = core.result_set(index, query)
    total = len(found.docs)
    return Export(total, limit, _rows(found, query.sort, min(total, limit), link))


def _rows(found: core.ResultSet, sort: str, count: int, link: Callable[[str], str]) -> Iterator[dict]:
    order, scores = core.ordered(found, sort, count)
    searcher = found.searcher
    for start in range(0, len(order), BATCH_SIZE):
        batch = order[start:start + BATCH_SIZE]
        stored = {docnum: searcher.stored_fields(docnum) for docnum in sorted(batch)}
        for docnum in batch:
            yield article_row(fields.stored_values(stored[docnum]), scores.get(docnum, 0.0), link)


# -- writers ----------------------------------------------------------------------------------

# A cell starting with one of these is taken for a formula by spreadsheet programs (and could
# run one: "CSV injection"); such a cell gets a leading apostrophe, which they show as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> object:
    if isinstance(value, list):
        value = LIST_SEPARATOR.join(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_chunks(rows: Iterable[dict], columns: tuple[str, ...] = COLUMNS) -> Iterator[str]:
    """CSV text: a byte order mark, the header row, one row per article (CRLF line ends);
    ``columns`` (the export's by default; the concordance gives its own) and their order."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[column]) for column in columns])
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# Line separators that JSON leaves raw (``ensure_ascii=False``) but that Python's
# ``str.splitlines`` and some readers take for line ends: escaped, so one line is one article.
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")


def jsonl_chunks(rows: Iterable[dict]) -> Iterator[str]:
    """JSON Lines: one object per article and line, readable Chinese (not \\u-escaped)."""
    lines: list[str] = []
    size = 0
    for row in rows:
        line = _LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(row, ensure_ascii=False))
        lines.append(line + "\n")
        size += len(line) + 1
        if size >= CHUNK_CHARS:
            yield "".join(lines)
            lines, size = [], 0
    if lines:
        yield "".join(lines)


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    suffix: str
    chunks: Callable[[Iterable[dict]], Iterator[str]]


FORMATS = {
    "csv": Format("csv", "text/csv", "csv", csv_chunks),
    "jsonl": Format("jsonl", "application/x-ndjson", "jsonl", jsonl_chunks),
}


# -- parameters -------------------------------------------------------------------------------

def export_options(args: Mapping, cap: int = settings.EXPORT_MAX_ROWS) -> tuple[Format, int]:
    """The ``format`` (csv, the default, or jsonl) and ``limit`` (1 to ``cap``, default
    ``cap``) parameters, from URL parameters or CLI options; raises ``QueryError``."""
    raw = args.get("format")
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else None
    name = str(raw or "csv").strip().lower()
    if name not in FORMATS:
        raise QueryError(f"format must be one of {', '.join(FORMATS)}, not {raw!r}", "format",
                         code="unknown_format")
    return FORMATS[name], int_param(args, "limit", cap, 1, cap)


def export_filename(query: Query, fmt: Format) -> str:
    """newsearch-<the query's words>.<suffix> (newsearch-export.<suffix> for filters only)."""
    words = "_".join(re.findall(r"\w+", query.text))[:40].strip("_")
    return f"newsearch-{words or 'export'}.{fmt.suffix}"
