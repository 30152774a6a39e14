"""Facets: the fields of ``indexer.fields.FACETS``, counted over the whole result set.

One small class per kind of facet (as Datasette's ``facets.py``): ``TermFacet`` for an
exact-term field (one or several values per article) and ``RangeFacet`` for a number filtered
by ranges (the year: ``2021``, ``2020..2023``). Each keeps, per value, the set of live documents
that have it (a ``pyroaring.BitMap``), built once per index version; counting a result set is
one intersection count per value, in C. Filters OR values within a facet and AND facets, and the counts shown for a facet leave
out that facet's own filter (so another value can be added to it). Buckets are plain data.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

from pyroaring import BitMap

from indexer import fields, schema
from indexer.dates import DateRange
from searchapp.datesets import DateSets
from searchapp.matching import field_lengths
from searchapp.query import Range
from searchapp.results import FacetBucket


class TermFacet:
    """Values of an exact-term field: buckets by count (most first), filters by value."""

    def __init__(self, field: fields.Field, values: dict[str, BitMap]):
        self.field = field
        self.values = values

    @classmethod
    def from_reader(cls, field: fields.Field, reader, live: BitMap) -> "TermFacet":
        values: dict[str, BitMap] = {}
        if field.name in reader.schema:
            for term in reader.lexicon(field.name):
                docs = BitMap(reader.postings(field.name, term).all_ids()) & live
                if docs:
                    values[term.decode("utf-8")] = docs
        return cls(field, values)

    def filter(self, wanted) -> BitMap:
        """The documents that have any of the ``wanted`` values."""
        return BitMap.union(BitMap(), *(self.values.get(value, BitMap()) for value in wanted))

    def buckets(self, within: BitMap, selected=()) -> list[FacetBucket]:
        """Values with their counts in ``within`` (selected ones always shown)."""
        counts = {value: docs.intersection_cardinality(within) for value, docs in self.values.items()}
        return shown_buckets(self.field, counts, selected)


def shown_buckets(field: fields.Field, counts: dict[str, int], selected=()) -> list[FacetBucket]:
    """A facet's buckets from its values' counts, as every backend shows them: values with a
    count or selected, terms by count (most first), numbers latest first; at most the field's
    ``max_buckets``, and every selected value."""
    chosen = {str(value) for value in selected}
    found = [FacetBucket(value, count, value in chosen) for value, count in counts.items() if count or value in chosen]
    if field.facet == fields.RANGE_FACET:
        found.sort(key=lambda b: int(b.value), reverse=True)
    else:
        found.sort(key=lambda b: (-b.count, b.value))
    shown = found[:field.max_buckets]
    shown.extend(b for b in found[field.max_buckets:] if b.selected)
    return shown


class RangeFacet(TermFacet):
    """A number (from its column): buckets by value (latest first), filters by ``Range``s."""

    @classmethod
    def from_reader(cls, field: fields.Field, reader, live: BitMap) -> "RangeFacet":
        numbers: dict[int, list[int]] = {}
        if reader.has_column(field.name):
            column = reader.schema[field.name]
            missing = column.from_column_value(column.default)  # what documents without a value hold
            for docnum, number in enumerate(reader.column_reader(field.name)):
                if number != missing:
                    numbers.setdefault(number, []).append(docnum)
        values = {str(n): BitMap(docs) & live for n, docs in numbers.items()}
        return cls(field, {value: docs for value, docs in values.items() if docs})

    def filter(self, wanted: tuple[Range, ...]) -> BitMap:
        """The documents whose number lies in any of the ``wanted`` ranges."""
        return BitMap.union(BitMap(), *(docs for value, docs in self.values.items()
                                        if any(int(value) in span for span in wanted)))

    def buckets(self, within: BitMap, selected=()) -> list[FacetBucket]:
        """As ``TermFacet.buckets``; a selected range marks the values inside it."""
        chosen = [value for value in self.values if any(int(value) in span for span in selected)]
        return super().buckets(within, chosen)


DATE_FILTER = "date"  # the key of a date range's set in ``filter_sets``

FACET_KINDS = {fields.TERM_FACET: TermFacet, fields.RANGE_FACET: RangeFacet}


@dataclass
class FacetTable:
    """The facets of one index version, its live documents, and the live documents by date
    (``searchapp.datesets``: date filters, ``sort=date``, the timeline)."""

    live: BitMap
    facets: dict[str, TermFacet]
    dates: DateSets
    lengths: dict  # each scored field's length per document (``matching.field_lengths``; ranking)

    @classmethod
    def from_reader(cls, reader) -> "FacetTable":
        live = BitMap(reader.all_doc_ids())
        facets = {field.name: FACET_KINDS[field.facet].from_reader(field, reader, live)
                  for field in fields.FACETS}
        if reader.has_column(schema.SORT_DATE):
            dates = array("q", reader.column_reader(schema.SORT_DATE))
        else:
            dates = array("q", bytes(8 * reader.doc_count_all()))
        lengths = {name: field_lengths(reader, name) for name in (schema.TITLE, schema.WORDS)}
        return cls(live, facets, DateSets(dates, live), lengths)

    def newest(self, docs: BitMap, limit: int) -> list[int]:
        """The first ``limit`` of ``docs`` by sort date, latest first (``DateSets.newest``)."""
        return self.dates.newest(docs, limit)

    def filter_sets(self, filters: dict[str, tuple], bounds: dict[str, Range],
                    dates: DateRange | None = None) -> dict[str, BitMap]:
        """One document set per facet that has a filter (its values OR'ed, within its bounds),
        and ``"date"``'s for a date range."""
        sets = {name: self.facets[name].filter(values) for name, values in filters.items() if values}
        for name, span in bounds.items():
            inside = self.facets[name].filter((span,))
            sets[name] = sets[name] & inside if name in sets else inside
        if dates is not None:
            sets[DATE_FILTER] = self.dates.filter(dates)
        return sets

    def counts(self, matched: BitMap, filter_sets: dict[str, BitMap],
               filters: dict[str, tuple]) -> dict[str, list[FacetBucket]]:
        """Each facet's buckets over ``matched`` and every other facet's filter."""
        counted = {}
        for name, facet in self.facets.items():
            within = matched
            for other, docs in filter_sets.items():
                if other != name:
                    within = within & docs
            counted[name] = facet.buckets(within, filters.get(name, ()))
        return counted
