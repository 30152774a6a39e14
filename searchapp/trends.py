"""Trends: how many articles match each of a few queries, per year or per month.

Each query is matched as the search matches it (``core.result_set``, all in one index version),
within the filters given beside the queries (facets, ranges, dates, ``aliases``), which apply to
every query. Per period a point has the matching articles (``count``) and that count per 1,000
articles of the period that are within the same filters (``per_1000``): the archive's own size in that period, so that a period
with more articles in the archive does not look like a rise. The periods are those in which the
archive (within the filters) has articles: a period without matches is a point with 0; an
article known less precisely than the interval (only its year, per month) is in no period.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.dates import MONTH, YEAR
from searchapp.core import result_set
from searchapp.query import QueryError
from searchapp.request import Query

INTERVALS = (YEAR, MONTH)
MAX_QUERIES = 5


@dataclass(frozen=True, slots=True)
class Point:
    period: str
    count: int
    per_1000: float

    def to_dict(self) -> dict:
        return {"period": self.period, "count": self.count, "per_1000": self.per_1000}


@dataclass(frozen=True, slots=True)
class Series:
    q: str
    total: int
    points: list[Point]

    def to_dict(self) -> dict:
        return {"q": self.q, "total": self.total, "points": [p.to_dict() for p in self.points]}


@dataclass(frozen=True, slots=True)
class Trends:
    interval: str
    series: list[Series]
    periods: list[tuple[str, int]]  # (period, articles of the archive within the filters)
    filters: dict[str, list[str]]

    def to_dict(self) -> dict:
        return {"interval": self.interval, "filters": self.filters,
                "periods": [{"period": period, "articles": size} for period, size in self.periods],
                "series": [s.to_dict() for s in self.series]}


def check_queries(texts: list[str]) -> list[str]:
    """The queries of a trend, at least one and at most ``MAX_QUERIES``, each one searchable."""
    if not texts:
        raise QueryError("q is required: one to five queries (repeat q)", "q", code="missing_query")
    if len(texts) > MAX_QUERIES:
        raise QueryError(f"at most {MAX_QUERIES} queries, not {len(texts)}", "q", code="too_many_queries")
    return texts


def trends(index, texts: list[str], within: Query, interval: str = YEAR) -> Trends:
    """Per period, the articles matching each of ``texts`` (queries, already checked) and
    within ``within``'s filters."""
    if interval not in INTERVALS:
        raise QueryError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}", "interval",
                         code="not_an_interval")
    base = result_set(index, within.with_changes(text=""))
    periods = [(period, docs & base.docs) for period, docs in base.table.dates.periods(interval, within.dates)]
    periods = [(period, docs) for period, docs in periods if docs]
    series = []
    for text in texts:
        # In the index version of ``base``: its periods' document numbers are that version's.
        found = result_set(index, within.with_changes(text=text), base.searcher).docs
        points = []
        for period, docs in periods:
            count = docs.intersection_cardinality(found)
            points.append(Point(period, count, round(1000 * count / len(docs), 3)))
        series.append(Series(text, len(found), points))
    filters = {name: [str(v) for v in values] for name, values in within.filters.items()}
    if within.dates is not None:
        filters["date"] = [str(within.dates)]
    return Trends(interval, series, [(period, len(docs)) for period, docs in periods], filters)
