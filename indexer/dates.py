"""Dates of articles and date ranges of queries, as whole numbers ``YYYYMMDD``.

An article's *sort date* is its date with the parts not known written as ``00``: ``20230501``
(a day), ``20230500`` (only the month is known), ``20230000`` (only the year), ``0`` (nothing).
It is what ``sort=date`` orders by, and what date filters read (``indexer.fields``' ``sort_date``
column).

A ``DateRange`` is what a query asks for: ``2023-05-01``, ``2023-05``, ``2023``, or two such ends
joined by ``..`` (either left open): ``2023-05-01..2023-06-30``, ``2020..``, ``..2019-06``. Each
end is taken whole: ``..2019-06`` runs to 30 June 2019.

An article is inside a range when everything its date could be is inside it: an article dated
only "2023" is inside ``2023`` and ``2022..2024``, not inside ``2023-05`` (it may be from any
month); one dated "2023-05" is inside ``2023-05`` and ``2023``, not inside ``2023-05-01``.

The dates records and catalogs give are read once, when they are indexed (``read_date``): written
``2023-5-4`` or ``2023/05/04``, stored ``2023-05-04``; an impossible one (``2023-13``,
``2023-02-30``) is cut to its year, so the index holds only dates that exist.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

_END_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
# A date as archives write it: parts joined by one of "-", "/", "." (the same one throughout).
_WRITTEN_RE = re.compile(r"^(\d{4})(?:([-/.])(\d{1,2})(?:\2(\d{1,2}))?)?$")
# Precisions of a date or a range end.
YEAR, MONTH, DAY = "year", "month", "day"


class DateError(ValueError):
    """A date or range that cannot be read; the message says why (in English)."""


def read_date(text: str) -> tuple[str, str]:
    """A date as a record or catalog writes it, as it is stored, and what was wrong with it
    ("" if nothing): ``2023-5-4`` and ``2023/05/04`` -> ``("2023-05-04", "")``; an impossible
    date keeps its year: ``2023-13`` -> ``("2023", "… there is no month 13; only its year is
    kept")``; "" -> ``("", "")``.

    Raises ``DateError`` when not even a year can be read (``yesterday``, ``0000``)."""
    text = text.strip()
    if not text:
        return "", ""
    match = _WRITTEN_RE.match(text)
    if not match:
        raise DateError(f"{text!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")
    year, _, month, day = match.groups()
    iso = "-".join(part for part in (year, month, day) if part is not None)
    try:
        return _end(iso)[2], ""
    except DateError as error:
        if month is None:
            raise
        return _end(year)[2], f"{error}; only its year is kept"


def sort_date(date: str, year: int | None) -> int:
    """The sort date of an article with this ISO date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``,
    or "") and year. A date that does not exist (as indexes made before ``read_date`` may hold)
    counts as its year."""
    match = _END_RE.match(date.strip()) if date else None
    if match:
        y, m, d = match.groups()
        try:
            _end(date.strip())
        except DateError:
            return int(y) * 10000
        return int(y) * 10000 + int(m or 0) * 100 + int(d or 0)
    return (year or 0) * 10000


def interval(value: int) -> tuple[int, int]:
    """The first and last day an article of sort date ``value`` may be from (``(0, 0)``: not
    known)."""
    if not value:
        return 0, 0
    year, month, day = value // 10000, value // 100 % 100, value % 100
    if not month:
        return year * 10000 + 101, year * 10000 + 1231
    if not day:
        return value + 1, value + calendar.monthrange(year, month)[1]
    return value, value


def precision(value: int) -> str | None:
    """How much of a sort date is known: ``YEAR``, ``MONTH``, ``DAY`` (``None``: nothing)."""
    if not value:
        return None
    return DAY if value % 100 else MONTH if value // 100 % 100 else YEAR


def label(value: int) -> str:
    """A sort date as people write it: ``2023-05-01``, ``2023-05``, ``2023`` ("" when unknown)."""
    kind = precision(value)
    if kind is None:
        return ""
    year, month, day = value // 10000, value // 100 % 100, value % 100
    return {YEAR: f"{year}", MONTH: f"{year}-{month:02d}", DAY: f"{year}-{month:02d}-{day:02d}"}[kind]


def _end(text: str) -> tuple[int, int, str]:
    """(first day, last day, canonical text) of one end of a range."""
    match = _END_RE.match(text)
    if not match:
        raise DateError(f"{text!r} is not a date: write 2023, 2023-05 or 2023-05-01")
    y, m, d = match.groups()
    year = int(y)
    if year < 1:
        raise DateError(f"{text!r} is not a date: there is no year 0")
    if m is None:
        return year * 10000 + 101, year * 10000 + 1231, f"{year:04d}"
    month = int(m)
    if not 1 <= month <= 12:
        raise DateError(f"{text!r} is not a date: there is no month {month}")
    days = calendar.monthrange(year, month)[1]
    base = year * 10000 + month * 100
    if d is None:
        return base + 1, base + days, f"{year:04d}-{month:02d}"
    day = int(d)
    if not 1 <= day <= days:
        raise DateError(f"{text!r} is not a date: {year:04d}-{month:02d} has {days} days")
    return base + day, base + day, f"{year:04d}-{month:02d}-{day:02d}"


@dataclass(frozen=True, slots=True)
class DateRange:
    """The days from ``first`` to ``last`` (``YYYYMMDD``; ``None``: open), and its ends as written
    (canonical: ``2023-05``, zero-padded)."""

    first: int | None
    last: int | None
    start_text: str = ""
    end_text: str = ""

    @classmethod
    def parse(cls, value: str) -> "DateRange":
        """``2023-05-01``, ``2023-05``, ``2023``, or ``A..B`` with either end left out."""
        text = value.strip()
        if ".." not in text:
            first, last, canonical = _end(text)
            return cls(first, last, canonical, canonical)
        start, _, end = text.partition("..")
        if not start.strip() and not end.strip():
            raise DateError(f"{value!r} is not a range: give at least one end (2023-05.. or ..2023-05)")
        return cls.between(start.strip() or None, end.strip() or None)

    @classmethod
    def between(cls, start: str | None, end: str | None) -> "DateRange":
        """From the first day of ``start`` to the last day of ``end`` (either may be ``None``)."""
        first, _, start_text = _end(start) if start else (None, None, "")
        _, last, end_text = _end(end) if end else (None, None, "")
        if first is not None and last is not None and first > last:
            raise DateError(f"the range {start_text}..{end_text} ends before it starts")
        return cls(first, last, start_text, end_text)

    def clipped(self, other: "DateRange | None") -> "DateRange | None":
        """The part of this range inside ``other`` too (``other`` ``None``: all of it; ``None``:
        no day is in both): ``2023`` clipped to ``2023-05..2023-05`` is ``2023-05``."""
        if other is None:
            return self
        starts = [(first, text) for first, text in ((self.first, self.start_text), (other.first, other.start_text))
                  if first is not None]
        ends = [(last, text) for last, text in ((self.last, self.end_text), (other.last, other.end_text))
                if last is not None]
        first, start_text = max(starts) if starts else (None, "")
        last, end_text = min(ends) if ends else (None, "")
        if first is not None and last is not None and first > last:
            return None
        return DateRange(first, last, start_text, end_text)

    def covers(self, value: int) -> bool:
        """Whether an article of sort date ``value`` is inside the range (all it may be)."""
        if not value:
            return False
        first, last = interval(value)
        return (self.first is None or first >= self.first) and (self.last is None or last <= self.last)

    @property
    def single(self) -> str:
        """The one period the range is (``2023``, ``2023-05``, ``2023-05-01``), or ""."""
        return self.start_text if self.start_text == self.end_text else ""

    @property
    def single_precision(self) -> str | None:
        """``YEAR``, ``MONTH`` or ``DAY`` when the range is one such period, else ``None``."""
        return {4: YEAR, 7: MONTH, 10: DAY}.get(len(self.single)) if self.single else None

    def __str__(self) -> str:
        return self.single or f"{self.start_text}..{self.end_text}"
