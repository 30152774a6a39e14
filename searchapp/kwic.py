"""The concordance (KWIC, keyword in context): every occurrence of a query's strings in the
articles it matches, one line each, with the characters either side.

What an occurrence is. The strings are the query's positive terms (``terms.positive_terms``:
not excluded; with ``aliases``, the other names of the places it names too, as the search and
the highlighter take them), normalised as the matching normalises (``indexer.normalize``:
traditional characters folded to simplified, width and case folded, whitespace inside Han runs
dropped). An occurrence of a string is a place where the whole string stands in the normalised
text of a matching article, found as ``str.count`` counts: left to right, never overlapping
itself. An unquoted term of several words counts only where it stands whole (an article holding
阜新 and 招商 apart matches ``阜新招商`` but gives no line); each string counts on its own (阜新
and 阜新市 in one query give two lines where 阜新市 stands). So the number of lines is, over the
matching articles, the sum for each distinct string of ``normalize(text).count(string)``.

The text is the article's stored text (a page's article begins with its title lines; a record's
separate title is not part of it). A line shows original characters: the match found in the
normalised text is mapped back (``normalize_with_offsets``), so a simplified query shows the
traditional characters it found; ``width`` characters either side, each run of whitespace that
holds a line break shown as one "¶" (``ShownText``), a tab as a space.

The articles are those ``core.result_set`` selects, as the search does; only those whose
normalised text holds one of the strings (the exact-substring sets of ``matching``) are read,
newest first. The work is bounded: at most ``settings.KWIC_MAX_LINES`` lines from at most
``settings.KWIC_MAX_ARTICLES`` articles; beyond them ``truncated`` says so (the newest kept).
Lines are listed newest first (ties: index order, then place in the article), or sorted by the
left context read from the match outwards, or by the right context (``SORTS``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

from pyroaring import BitMap

from indexer import fields
from indexer.normalize import fold, normalize_with_offsets
from searchapp import core, export, settings
from searchapp.core import result_set
from searchapp.query import QueryError
from searchapp.request import FILTER_PARAMS, Query, choice_param, int_param, query_from_args
from searchapp.store import SearchIndex
from searchapp.terms import positive_terms

SORTS = ("date", "left", "right")  # the first is the default
KWIC_PARAMS = ("width", "sort", "page", "per_page")
QUERY_PARAMS = (*FILTER_PARAMS, "aliases")  # what goes to ``query_from_args``
PARAMS = (*QUERY_PARAMS, *KWIC_PARAMS)
PILCROW = "¶"
CSV_COLUMNS = ("id", "title", "date", "year", "offset", "term", "left", "match", "right")

_LINE_BREAK_RUN = re.compile(r"\s*[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]\s*")


@dataclass(frozen=True)
class KwicRequest:
    """What a front end asks for: the query (q and filters, as a search) and how to list."""

    query: Query
    width: int = settings.KWIC_DEFAULT_WIDTH
    sort: str = SORTS[0]
    page: int = 1
    per_page: int = settings.KWIC_PER_PAGE

    def to_params(self, **changes) -> list[tuple[str, str]]:
        """URL parameters that give this request back (with ``changes``) through ``request_from_args``."""
        values = {"width": self.width, "sort": self.sort, "page": self.page, "per_page": self.per_page, **changes}
        defaults = {"width": settings.KWIC_DEFAULT_WIDTH, "sort": SORTS[0], "page": 1,
                    "per_page": settings.KWIC_PER_PAGE}
        params = [(name, value) for name, value in self.query.to_params() if name in QUERY_PARAMS]
        params.extend((name, str(values[name])) for name in KWIC_PARAMS if values[name] != defaults[name])
        return params


def _query_args(args: Mapping) -> dict:
    """The search parameters of ``args`` (a Flask ``MultiDict`` or a plain mapping): the others
    (``sort``, ``page``, ``per_page``) mean something else here."""
    if hasattr(args, "getlist"):
        return {name: args.getlist(name) for name in QUERY_PARAMS if name in args}
    return {name: args[name] for name in QUERY_PARAMS if name in args}


def strings_of(tree) -> list[str]:
    """The distinct strings a concordance of ``tree`` finds: its positive terms, in query order."""
    return list(dict.fromkeys(term.text for term in positive_terms(tree)))


def request_from_args(args: Mapping) -> KwicRequest:
    """A ``KwicRequest`` from URL parameters or CLI options; raises ``QueryError`` naming the
    parameter (a q without a string to find is refused: ``nothing_to_find``)."""
    query = query_from_args(_query_args(args))
    if not query.text:
        raise QueryError("q is required: the words whose occurrences are listed", "q", code="empty_query")
    if not strings_of(query.tree):
        raise QueryError("q has no word to find (only excluded words or fields such as title:)", "q",
                         code="nothing_to_find")
    return KwicRequest(
        query=query,
        width=int_param(args, "width", settings.KWIC_DEFAULT_WIDTH, 1, settings.KWIC_MAX_WIDTH),
        sort=choice_param(args, "sort", SORTS, SORTS[0]),
        page=int_param(args, "page", 1, 1, settings.KWIC_MAX_LINES),
        per_page=int_param(args, "per_page", settings.KWIC_PER_PAGE, 1, settings.KWIC_MAX_PER_PAGE),
    )


@dataclass(frozen=True, slots=True)
class KwicLine:
    id: str
    title: str
    date: str  # ISO date, "" when not known
    year: int | None
    left: str  # ``width`` characters before the match (fewer at the start of the text)
    match: str  # the original characters matched
    right: str
    offset: int  # where the match starts in the article's text (characters)
    term: str  # the query string it is an occurrence of (normalised)

    @property
    def when(self) -> str:
        """The date as a hit shows it ("2023 年，日期不详" for a year only; "" when not known)."""
        return core.when(self.date, self.year)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "date": self.date, "year": self.year, "when": self.when,
                "left": self.left, "match": self.match, "right": self.right, "offset": self.offset,
                "term": self.term}


@dataclass(frozen=True, slots=True)
class KwicResult:
    query: str
    strings: list[str]  # what was looked for
    width: int
    sort: str
    page: int
    per_page: int
    lines: list[KwicLine]  # all of them, in the order asked for
    articles: int  # articles the lines come from
    search_total: int  # articles the query matches (as the search counts them)
    truncated: bool  # a cap was reached: there may be more lines than these
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # place names also searched

    @property
    def total_lines(self) -> int:
        return len(self.lines)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_lines // self.per_page))

    @property
    def page_lines(self) -> list[KwicLine]:
        first = (self.page - 1) * self.per_page
        return self.lines[first:first + self.per_page]

    def to_dict(self, url: Callable[[KwicLine], str] | None = None) -> dict:
        """The JSON of this page of lines; ``url`` gives each line's link to its article."""
        lines = []
        for line in self.page_lines:
            data = line.to_dict()
            if url is not None:
                data["url"] = url(line)
            lines.append(data)
        return {"query": self.query, "strings": self.strings, "total_lines": self.total_lines,
                "articles": self.articles, "search_total": self.search_total, "truncated": self.truncated,
                "page": self.page, "per_page": self.per_page, "pages": self.pages, "sort": self.sort,
                "width": self.width, "aliases": {k: list(v) for k, v in self.aliases.items()}, "lines": lines}


class ShownText:
    """An article's text as its lines show it: each run of whitespace that holds a line break as
    one ``PILCROW``, a tab as a space; and where each character of the text is shown."""

    __slots__ = ("text", "_ends", "_removed")

    def __init__(self, text: str):
        pieces, ends, removed = [], [0], [0]
        cursor = 0
        for run in _LINE_BREAK_RUN.finditer(text):
            pieces.extend((text[cursor:run.start()], PILCROW))
            ends.append(run.end())
            removed.append(removed[-1] + len(run.group()) - 1)
            cursor = run.end()
        pieces.append(text[cursor:])
        self.text = "".join(pieces).replace("\t", " ")
        self._ends = ends
        self._removed = removed

    def at(self, position: int) -> int:
        """Where the character at ``position`` of the text is shown (``position`` not inside a
        run of whitespace; its start is where the run's mark is)."""
        i = bisect_right(self._ends, position) - 1
        return position - self._removed[i]


def occurrences(haystack: str, needle: str) -> list[int]:
    """Where ``needle`` starts in ``haystack``, left to right, not overlapping (``str.count``'s)."""
    found = []
    start = haystack.find(needle)
    while start != -1:
        found.append(start)
        start = haystack.find(needle, start + len(needle))
    return found


def article_lines(values: dict, strings: list[str], width: int) -> list[KwicLine]:
    """The lines of one article (its stored values), in text order."""
    text = values["text"] or ""
    norm, offsets = normalize_with_offsets(text)
    spans = sorted((offsets.start(at), offsets.end(at + len(string)), number)
                   for number, string in enumerate(strings) for at in occurrences(norm, string))
    if not spans:
        return []
    shown = ShownText(text)
    lines = []
    for start, end, number in spans:
        first, last = shown.at(start), shown.at(end)
        lines.append(KwicLine(
            id=values["id"], title=values["title"], date=values["date"], year=values["year"],
            left=shown.text[max(0, first - width):first], match=shown.text[first:last],
            right=shown.text[last:last + width], offset=start, term=strings[number]))
    return lines


def sort_key(sort: str) -> Callable[[KwicLine], str] | None:
    """How lines are sorted by ``sort`` (folded, so traditional and simplified sort together):
    the left context read from the match outwards, the right context; ``None`` for ``date``,
    the order lines are collected in."""
    if sort == "left":
        return lambda line: fold(line.left)[::-1]
    if sort == "right":
        return lambda line: fold(line.right)
    return None


def concordance(index: SearchIndex, request: KwicRequest, max_lines: int = settings.KWIC_MAX_LINES,
                max_articles: int = settings.KWIC_MAX_ARTICLES) -> KwicResult:
    """The lines of ``request``'s query (all of them, up to the caps), in its order."""
    found = result_set(index, request.query)
    strings = strings_of(found.tree)
    holding = BitMap.union(BitMap(), *(found.docsets.exact(string) for string in strings))
    order = found.table.newest(found.docs & holding, max_articles + 1)
    lines: list[KwicLine] = []
    articles = 0
    truncated = len(order) > max_articles
    for docnum in order[:max_articles]:
        values = fields.stored_values(found.searcher.stored_fields(docnum))
        more = article_lines(values, strings, request.width)
        if not more:
            continue
        articles += 1
        if len(lines) + len(more) > max_lines:
            lines.extend(more[:max_lines - len(lines)])
            truncated = True
            break
        lines.extend(more)
    key = sort_key(request.sort)
    if key is not None:
        lines.sort(key=key)  # stable: ties stay newest first, then in text order
    return KwicResult(query=request.query.text, strings=strings, width=request.width, sort=request.sort,
                      page=request.page, per_page=request.per_page, lines=lines, articles=articles,
                      search_total=len(found.docs), truncated=truncated, aliases=found.widened)


def csv_chunks(result: KwicResult, url: Callable[[KwicLine], str] | None = None) -> Iterator[str]:
    """Every line of ``result`` as CSV (not one page), written as the export writes its CSV
    (``export.csv_chunks``: a byte order mark, a header row, formulas defused): one row per
    line, ``CSV_COLUMNS``; ``url`` adds a column with each line's link to its article."""
    columns = (*CSV_COLUMNS, *(("url",) if url else ()))
    rows = ({**line.to_dict(), **({"url": url(line)} if url else {})} for line in result.lines)
    return export.csv_chunks(rows, columns)
