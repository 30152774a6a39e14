"""Facets: city, district, year and topic, counted over the whole result set.

For each facet value the table keeps the set of live documents that have it, built once per
index version from the postings (the year from its column). Counting a result set is one set
intersection per value; facet filters OR values within a facet and AND facets, and the counts
shown for a facet leave out that facet's own filter (so another value can be added to it).
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer import schema
from searchapp.results import FacetBucket

FACETS = ("city", "district", "year", "topic")
_FIELDS = {"city": schema.CITY, "district": schema.DISTRICT, "topic": schema.TOPIC}
MAX_BUCKETS = {"city": 20, "district": 60, "year": 60, "topic": 30}


@dataclass
class FacetTable:
    """value -> documents for each facet, the live documents, and each document's sort date."""

    live: frozenset[int]
    values: dict[str, dict[str, frozenset[int]]]
    sort_dates: list[int]

    @classmethod
    def from_reader(cls, reader) -> "FacetTable":
        size = reader.doc_count_all()
        live = frozenset(reader.all_doc_ids())
        values: dict[str, dict[str, frozenset[int]]] = {}
        for facet, fieldname in _FIELDS.items():
            table: dict[str, frozenset[int]] = {}
            if fieldname in reader.schema:
                for term in reader.lexicon(fieldname):
                    docs = frozenset(reader.postings(fieldname, term).all_ids()) & live
                    if docs:
                        table[term.decode("utf-8")] = docs
            values[facet] = table
        years: dict[str, set[int]] = {}
        if reader.has_column(schema.YEAR):
            # Documents without a year hold the column's default (the largest int): skipped.
            for docnum, year in enumerate(reader.column_reader(schema.YEAR)):
                if 1000 <= year <= 9999:
                    years.setdefault(str(year), set()).add(docnum)
        values["year"] = {year: frozenset(docs) & live for year, docs in years.items()}
        dates = list(reader.column_reader(schema.SORT_DATE)) if reader.has_column(schema.SORT_DATE) else [0] * size
        return cls(live, values, dates)

    def filter_set(self, facet: str, wanted: tuple[str, ...]) -> frozenset[int]:
        table = self.values.get(facet, {})
        return frozenset().union(*(table.get(value, frozenset()) for value in wanted))

    def year_range(self, first: int | None, last: int | None) -> frozenset[int]:
        return frozenset().union(*(docs for value, docs in self.values["year"].items()
                                   if (first is None or int(value) >= first)
                                   and (last is None or int(value) <= last)))

    def buckets(self, facet: str, within: frozenset[int], selected: tuple[str, ...] = ()) -> list[FacetBucket]:
        """Values of ``facet`` with their counts in ``within`` (selected ones always shown)."""
        found = []
        for value, docs in self.values.get(facet, {}).items():
            count = len(docs & within) if len(docs) < len(within) else len(within & docs)
            if count or value in selected:
                found.append(FacetBucket(value, count, value in selected))
        if facet == "year":
            found.sort(key=lambda b: b.value, reverse=True)
        else:
            found.sort(key=lambda b: (-b.count, b.value))
        limit = MAX_BUCKETS[facet]
        shown = found[:limit]
        shown.extend(b for b in found[limit:] if b.selected)
        return shown
