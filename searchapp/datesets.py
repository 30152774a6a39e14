"""The live documents by date, for date filters, ``sort=date``, the timeline, trends and browsing.

Built once per index version from the ``sort_date`` column (``indexer.dates``: ``YYYYMMDD``,
parts not known as ``00``): one ``pyroaring.BitMap`` per sort date that occurs (a day, or a
month or year for articles known only that far) and one per year. A date range is the union of
the years wholly inside it and, in the years at its ends, of the dates inside it; counting per
period is one intersection count per period, in C.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, bisect_right

from pyroaring import BitMap

from indexer.dates import DAY, MONTH, YEAR, DateRange, interval, label, precision

INTERVALS = (YEAR, MONTH, DAY)


class DateSets:
    def __init__(self, sort_dates: array, live: BitMap):
        self.sort_dates = sort_dates
        found: dict[int, list[int]] = {}
        for docnum, value in enumerate(sort_dates):
            if value:
                found.setdefault(value, []).append(docnum)
        self.dates: list[int] = sorted(found)  # every sort date that occurs, in order
        self.docs: dict[int, BitMap] = {value: BitMap(found[value]) & live for value in self.dates}
        years: dict[int, list[BitMap]] = {}
        for value in self.dates:
            years.setdefault(value // 10000, []).append(self.docs[value])
        self.years: dict[int, BitMap] = {year: BitMap.union(*sets) for year, sets in years.items()}
        self.undated = live - BitMap.union(BitMap(), *self.years.values())
        self._newest_first = [self.years[year] for year in sorted(self.years, reverse=True)] + [self.undated]

    # -- filtering ------------------------------------------------------------------------------

    def _values(self, first: int, last: int) -> list[int]:
        """The sort dates from ``first`` to ``last`` (raw values, as stored)."""
        return self.dates[bisect_left(self.dates, first):bisect_right(self.dates, last)]

    def filter(self, span: DateRange) -> BitMap:
        """The documents whose date lies wholly inside ``span`` (the years present are looked
        at, not every year of an open range)."""
        first = span.first if span.first is not None else 0
        last = span.last if span.last is not None else 99991231
        sets = []
        for year, docs in self.years.items():
            if not first // 10000 <= year <= last // 10000:
                continue
            if first <= year * 10000 + 101 and year * 10000 + 1231 <= last:
                sets.append(docs)  # the whole year is inside
            else:
                sets.extend(self.docs[value] for value in self._values(year * 10000, year * 10000 + 1231)
                            if span.covers(value))
        return BitMap.union(BitMap(), *sets)

    # -- ordering -------------------------------------------------------------------------------

    def newest(self, docs: BitMap, limit: int) -> list[int]:
        """The first ``limit`` of ``docs`` by sort date, latest first; ties (and the undated, at
        the end) in index order. Whole years are taken, latest first, until there are enough;
        only those are sorted."""
        taken: list[int] = []
        for year in self._newest_first:
            if len(taken) >= limit:
                break
            if year.intersection_cardinality(docs):
                taken.extend(year & docs)
        dates = self.sort_dates
        return heapq.nsmallest(limit, taken, key=lambda d: (-dates[d], d))

    # -- counting -------------------------------------------------------------------------------

    def periods(self, interval_name: str, within: DateRange | None = None) -> list[tuple[str, BitMap]]:
        """(period, documents) for each year, month or day with documents (in ``within``), in
        order. A month counts the articles of its days and those known only to that month; a
        day, its own; an article known less precisely than the interval is in no period."""
        if interval_name not in INTERVALS:
            raise ValueError(interval_name)
        if interval_name == YEAR:
            years = sorted(self.years)
            if within is not None:
                years = [y for y in years if (within.first is None or y >= within.first // 10000)
                         and (within.last is None or y <= within.last // 10000)]
            return [(str(year), self.years[year]) for year in years]
        first = within.first if within is not None and within.first is not None else 0
        last = within.last if within is not None and within.last is not None else 99991231
        grouped: dict[int, list[BitMap]] = {}
        for value in self._values(first - first % 100, last):
            kind = precision(value)
            if kind == YEAR or (interval_name == DAY and kind == MONTH):
                continue
            start = interval(value)[0]
            if not first <= start <= last:
                continue
            key = value // 100 if interval_name == MONTH else value
            grouped.setdefault(key, []).append(self.docs[value])
        if interval_name == MONTH:
            return [(label(key * 100), BitMap.union(*sets)) for key, sets in sorted(grouped.items())]
        return [(label(key), sets[0]) for key, sets in sorted(grouped.items())]

    def counts(self, docs: BitMap, interval_name: str, within: DateRange | None = None) -> list[tuple[str, int]]:
        """(period, how many of ``docs``) for each period with any of them."""
        found = []
        for period, members in self.periods(interval_name, within):
            count = members.intersection_cardinality(docs)
            if count:
                found.append((period, count))
        return found
