"""Facets: city, district, year and topic, counted over the whole result set.

For each facet value the table keeps the set of documents that have it as a bitmask (a Python
int, one bit per document number), built once per index version from the postings. Counting a
result set is then one AND and one popcount per value, and facet filters are ORs and ANDs of
masks: filters combine with OR within a facet and AND across facets, and the counts shown for a
facet leave out that facet's own filter (so another value can be added to it).
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer import schema
from searchapp.results import FacetBucket

FACETS = ("city", "district", "year", "topic")
_FIELDS = {"city": schema.CITY, "district": schema.DISTRICT, "topic": schema.TOPIC}
MAX_BUCKETS = {"city": 20, "district": 60, "year": 60, "topic": 30}


def mask_of(docnums, size: int) -> int:
    """A bitmask with the bits of ``docnums`` set."""
    bits = bytearray((size + 8) // 8)
    for docnum in docnums:
        bits[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(bits, "little")


def docnums_of(mask: int) -> list[int]:
    """The document numbers in ``mask``, ascending."""
    found = []
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    for index, byte in enumerate(data):
        if byte:
            base = index << 3
            for bit in range(8):
                if byte >> bit & 1:
                    found.append(base + bit)
    return found


@dataclass
class FacetTable:
    """value -> document mask for each facet, plus the mask of live documents."""

    size: int
    live: int
    values: dict[str, dict[str, int]]

    @classmethod
    def from_reader(cls, reader) -> "FacetTable":
        size = reader.doc_count_all()
        live = mask_of(reader.all_doc_ids(), size)
        values: dict[str, dict[str, int]] = {}
        for facet, fieldname in _FIELDS.items():
            table: dict[str, int] = {}
            if fieldname in reader.schema:
                for term in reader.lexicon(fieldname):
                    docs = reader.postings(fieldname, term).all_ids()
                    mask = mask_of(docs, size) & live
                    if mask:
                        table[term.decode("utf-8")] = mask
            values[facet] = table
        years: dict[str, list[int]] = {}
        if reader.has_column(schema.YEAR):
            column = reader.column_reader(schema.YEAR)
            # Documents without a year hold the column's default (the largest int): skip it.
            for docnum in range(size):
                year = column[docnum]
                if 1000 <= year <= 9999:
                    years.setdefault(str(year), []).append(docnum)
        values["year"] = {year: mask for year, docs in years.items() if (mask := mask_of(docs, size) & live)}
        return cls(size, live, values)

    def filter_mask(self, facet: str, wanted: tuple[str, ...]) -> int:
        table = self.values.get(facet, {})
        mask = 0
        for value in wanted:
            mask |= table.get(value, 0)
        return mask

    def year_range_mask(self, first: int | None, last: int | None) -> int:
        mask = 0
        for value, docs in self.values["year"].items():
            year = int(value)
            if (first is None or year >= first) and (last is None or year <= last):
                mask |= docs
        return mask

    def buckets(self, facet: str, within: int, selected: tuple[str, ...] = ()) -> list[FacetBucket]:
        """Values of ``facet`` with their counts in ``within`` (selected ones always shown)."""
        found = []
        for value, mask in self.values.get(facet, {}).items():
            count = (mask & within).bit_count()
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
