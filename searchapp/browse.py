"""Browsing by issue, as a newspaper archive is read: paper -> year -> month (a calendar of the
days with articles) -> one day's pages (版次) -> the articles of one page, in page order.

Everything is read from the facet table of the index version (the paper facet's documents and
``DateSets``: the documents of each date), so a level costs a few set operations, plus the stored
fields of one day's articles. Articles without pages (JSON Lines records) are listed by date, as
one "page" without a number.

A paper is named in URLs by its *key* (``paper_key``): its name, with ``~``, ``/`` and ``\\``
written ``~7E``, ``~2F``, ``~5C`` (a ``/``, even written ``%2F``, would reach the router as a
``/`` and split the path; a browser turns ``\\`` into ``/``), and ``_``, ``.`` and ``..`` as a
whole name escaped the same way (``~5F``): so a key is one path segment whatever the name, and
``NO_PAPER`` (``_``), the key of the articles without a paper, is no paper's key. The functions
here take the paper's *name* (``""``: none); ``paper_name`` reads a key back.

Articles known only to their year or month are counted in their year (and month) but are on no
day: a year and a month say how many there are.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from pyroaring import BitMap

from indexer import fields
from indexer.dates import DAY, precision

NO_PAPER = "_"  # the key of the articles whose paper is not known, in URLs
NO_PAPER_LABEL = "未注明报纸"
_PAGE_NUMBER = re.compile(r"(\d+)")
_ESCAPED = "~/\\"  # escaped in any name
_WHOLE = ("_", ".", "..")  # escaped as a whole name
_KEY = re.compile(r"(?:[^~]|~[0-9A-F]{2})*")


class NotFound(LookupError):
    """No such paper, or nothing on that date or page; the message says what (in English)."""


def _escaped(chars: str) -> str:
    return "".join(f"~{ord(char):02X}" for char in chars)


def paper_key(name: str) -> str:
    """The paper ``name`` in URLs (``""``: ``NO_PAPER``): one path segment, read back by
    ``paper_name``."""
    if not name:
        return NO_PAPER
    if name in _WHOLE:
        return _escaped(name)
    return "".join(_escaped(char) if char in _ESCAPED else char for char in name)


def paper_name(key: str) -> str:
    """The name of the paper whose key is ``key`` (``""`` for ``NO_PAPER``); ``NotFound`` for a
    key no name has (a ``~`` not followed by two hexadecimal digits, or a name not written as
    ``paper_key`` writes it)."""
    if key == NO_PAPER:
        return ""
    name = re.sub(r"~([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), key) if _KEY.fullmatch(key) else None
    if not name or paper_key(name) != key:
        raise NotFound(f"no paper {key!r} in the index")
    return name


def paper_label(name: str) -> str:
    """How a paper is shown (``NO_PAPER_LABEL`` for none)."""
    return name or NO_PAPER_LABEL


def paper_docs(table, paper: str) -> BitMap:
    """The live documents of the paper named ``paper`` (``""``: those without one)."""
    values = table.facets["paper"].values
    if not paper:
        return table.live - BitMap.union(BitMap(), *values.values())
    if paper not in values:
        raise NotFound(f"no paper {paper!r} in the index")
    return values[paper]


def papers(table) -> list[dict]:
    """Each paper (its key, ``paper``, and name, ``label``) with its number of articles and its
    first and last year (most articles first; the articles without a paper last)."""
    found = []
    names = sorted(table.facets["paper"].values, key=lambda p: (-len(table.facets["paper"].values[p]), p))
    for name in [*names, ""]:
        docs = paper_docs(table, name)
        if not docs:
            continue
        years = [year for year, members in sorted(table.dates.years.items()) if members.intersection_cardinality(docs)]
        found.append({"paper": paper_key(name), "label": paper_label(name),
                      "articles": len(docs), "first_year": years[0] if years else None,
                      "last_year": years[-1] if years else None})
    return found


def years(table, paper: str) -> dict:
    """A paper's years with their numbers of articles, and how many have no date at all."""
    docs = paper_docs(table, paper)
    counted = [{"year": year, "articles": members.intersection_cardinality(docs)}
               for year, members in sorted(table.dates.years.items())]
    return {"years": [y for y in counted if y["articles"]],
            "undated": table.dates.undated.intersection_cardinality(docs)}


def _day_counts(table, docs: BitMap, first: int, last: int) -> dict[int, int]:
    """Sort date (a day) -> number of ``docs`` on it, for the days from ``first`` to ``last``."""
    dates = table.dates
    counts = {}
    for value in dates.dates[bisect_left(dates.dates, first):bisect_right(dates.dates, last)]:
        if precision(value) == DAY:
            count = dates.docs[value].intersection_cardinality(docs)
            if count:
                counts[value] = count
    return counts


def month(table, paper: str, year: int, month_number: int) -> dict:
    """A month of a paper: its calendar (weeks from Monday, each day with its number of
    articles, 0 for none, ``None`` outside the month), how many articles are known only to the
    month, and the months before and after with articles."""
    if not 1 <= month_number <= 12:
        raise NotFound(f"there is no month {month_number}")
    docs = paper_docs(table, paper)
    _check_year(table, docs, year)
    base = year * 10000 + month_number * 100
    counts = _day_counts(table, docs, base + 1, base + 31)
    weeks = [[None if day == 0 else {"day": day, "articles": counts.get(base + day, 0)} for day in week]
             for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month_number)]
    only_month = table.dates.docs.get(base)
    return {"year": year, "month": month_number, "weeks": weeks,
            "articles": sum(counts.values()),
            "month_only": only_month.intersection_cardinality(docs) if only_month else 0,
            "previous": _neighbour_month(table, docs, base, -1),
            "next": _neighbour_month(table, docs, base, +1)}


def year_months(table, paper: str, year: int) -> dict:
    """A year of a paper: each month's calendar (as ``month``) and how many articles are known
    only to the year."""
    docs = paper_docs(table, paper)
    _check_year(table, docs, year)
    only_year = table.dates.docs.get(year * 10000)
    return {"year": year, "months": [month(table, paper, year, m) for m in range(1, 13)],
            "year_only": only_year.intersection_cardinality(docs) if only_year else 0}


def _check_year(table, docs: BitMap, year: int) -> None:
    """``NotFound`` unless some of ``docs`` (a paper's) are of ``year``."""
    members = table.dates.years.get(year)
    if members is None or not members.intersection_cardinality(docs):
        raise NotFound(f"no articles of {year} in this paper")


def _neighbour_month(table, docs: BitMap, base: int, step: int) -> str | None:
    """``YYYY-MM`` of the nearest month before (``step`` -1) or after (+1) with a dated day."""
    dates = table.dates.dates
    if step < 0:
        candidates = reversed(dates[:bisect_left(dates, base)])
    else:
        candidates = iter(dates[bisect_right(dates, base + 99):])
    for value in candidates:
        if precision(value) == DAY and table.dates.docs[value].intersection_cardinality(docs):
            return f"{value // 10000:04d}-{value // 100 % 100:02d}"
    return None


def _neighbour_day(table, docs: BitMap, value: int, step: int) -> str | None:
    dates = table.dates.dates
    if step < 0:
        candidates = reversed(dates[:bisect_left(dates, value)])
    else:
        candidates = iter(dates[bisect_right(dates, value):])
    for other in candidates:
        if precision(other) == DAY and table.dates.docs[other].intersection_cardinality(docs):
            return f"{other // 10000:04d}-{other // 100 % 100:02d}-{other % 100:02d}"
    return None


@dataclass
class Page:
    """One page (版次) of one day: its number (``key`` in URLs), label and articles in order."""

    key: str
    label: str
    page_id: str
    articles: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"page": self.key, "label": self.label, "page_id": self.page_id, "articles": self.articles}


def _article(stored: dict) -> dict:
    values = fields.stored_values(stored)
    return {"id": values["id"], "title": values["title"], "position": values["position"] or 0,
            "kind": values["kind"], "reporters": values["reporter"], "city": values["city"]}


def _page_number(label: str) -> int | None:
    found = _PAGE_NUMBER.search(label or "")
    return int(found.group(1)) if found else None


def day(searcher, table, paper: str, year: int, month_number: int, day_number: int) -> dict:
    """One day of a paper: its pages in order (by page number; articles without a page last, as
    one page without a number), each with its articles in page order; the days before and after
    with articles."""
    try:
        value = year * 10000 + month_number * 100 + day_number
        calendar.monthrange(year, month_number)
        if not 1 <= day_number <= calendar.monthrange(year, month_number)[1]:
            raise ValueError
    except (ValueError, calendar.IllegalMonthError):
        raise NotFound(f"{year}-{month_number}-{day_number} is not a date") from None
    docs = paper_docs(table, paper)
    on_day = table.dates.docs.get(value, BitMap()) & docs
    if not on_day:
        raise NotFound(f"no articles on {year:04d}-{month_number:02d}-{day_number:02d} in this paper")
    grouped: dict[str, Page] = {}
    for docnum in on_day:
        stored = searcher.stored_fields(docnum)
        page_id, label = stored.get("page") or "", stored.get("page_label") or ""
        key = page_id or label
        if key not in grouped:
            grouped[key] = Page("", label, page_id)
        grouped[key].articles.append(_article(stored))
    pages = sorted(grouped.values(), key=lambda p: (_page_number(p.label) is None, _page_number(p.label) or 0,
                                                    p.label, not p.page_id, p.page_id))
    numbers = [_page_number(p.label) for p in pages]
    numbered = [n for n in numbers if n is not None]
    unique = len(set(numbered)) == len(numbered)
    for sequence, (page, number) in enumerate(zip(pages, numbers), 1):
        # The page's number (3 for 第3版) when the day's numbers are unique, else its place.
        page.key = str(number) if unique and number is not None else f"p{sequence}"
        page.articles.sort(key=lambda a: (a["position"], a["id"]))
    return {"date": f"{year:04d}-{month_number:02d}-{day_number:02d}", "pages": pages,
            "articles": len(on_day),
            "previous": _neighbour_day(table, docs, value, -1), "next": _neighbour_day(table, docs, value, +1)}


def page(searcher, table, paper: str, year: int, month_number: int, day_number: int, key: str) -> dict:
    """One page of one day (``key`` as ``day`` gives it), with the pages before and after it on
    that day and the days before and after."""
    found = day(searcher, table, paper, year, month_number, day_number)
    keys = [p.key for p in found["pages"]]
    if key not in keys:
        raise NotFound(f"no page {key!r} on {found['date']} in this paper")
    at = keys.index(key)
    return {**found, "page": found["pages"][at],
            "previous_page": keys[at - 1] if at > 0 else None,
            "next_page": keys[at + 1] if at + 1 < len(keys) else None}
